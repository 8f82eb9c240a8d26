/*
 * replay_main.c - runs a fuzz target over saved inputs, without libFuzzer.
 *
 * Usage: fuzz_<name> PATH...   (each PATH a file or a directory of files)
 *
 * Linked with every fuzz/fuzz_*.c in builds without SC_FUZZ, so the corpora
 * run as ordinary ctest tests under gcc and under the sanitizers. Each input
 * gets its own exact-size allocation so that ASan sees any overread.
 * Failure to read a path, or no input at all, fails the run: a corpus that
 * silently went missing would otherwise pass forever.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        perror(path);
        if (f != NULL) fclose(f);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    /* Exact size, so that one byte past the input is outside the allocation. */
    uint8_t *buf = malloc(len > 0 ? len : 1);
    int ok = buf != NULL && fread(buf, 1, len, f) == len;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: read failed\n", path);
        free(buf);
        return -1;
    }
    fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of a directory, in name order so that runs are reproducible. */
static int run_dir(const char *path, size_t *count)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char **more = realloc(names, (n + 1) * sizeof(*names));
        size_t plen = strlen(path) + strlen(e->d_name) + 2;
        char *full = more != NULL ? malloc(plen) : NULL;
        if (more != NULL) names = more;
        if (full == NULL) {
            rc = -1;
            break;
        }
        snprintf(full, plen, "%s/%s", path, e->d_name);
        names[n++] = full;
    }
    closedir(dir);
    if (n > 0) qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            rc = run_file(names[i]);
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        int rc;
        if (S_ISDIR(st.st_mode)) {
            rc = run_dir(argv[i], &count);
        } else {
            rc = run_file(argv[i]);
            count++;
        }
        if (rc != 0) return 1;
    }
    if (count == 0) {
        fprintf(stderr, "usage: %s FILE|DIR...: no inputs found\n", argc > 0 ? argv[0] : "replay");
        return 1;
    }
    fprintf(stderr, "replayed %zu inputs\n", count);
    return 0;
}
