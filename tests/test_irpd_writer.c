/*
 * test_irpd_writer.c - the store's writer thread (src/irpd/irpd_writer.h,
 * docs/IRP.md 10.2, 10.3), on a real SQLite database in /tmp, and as
 * irpd_writer_pg on a real PostgreSQL one (tests/support/irpd_testdb.h):
 * - jobs queued while a commit runs form the next group: one commit for
 *   all of them (the first job's apply is held by the test, so the grouping
 *   is exact, not a matter of timing);
 * - while the writer is inside a batch, the loop's own read connection
 *   still answers, and does not see the uncommitted change;
 * - a refused job is rolled back alone, the others of its group stay;
 * - a refused job is done at once, before its group's commit (10.2: a
 *   write that fails validation is answered at once): its done() runs
 *   while a later job of the same group is still being applied;
 * - the other jobs' done() runs on the loop, in submission order, after the
 *   commit (on_drained after each round of done()s); a new connection then sees every change;
 * - stop commits what was queued and runs the last done()s.
 * Run under ThreadSanitizer by `make test-tsan`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "irpd_store.h"
#include "irpd_testdb.h"
#include "irpd_writer.h"

#define NOW INT64_C(1800000000)
#define N_JOBS 20

static char dir[64], path[96];

typedef struct add_job {
    irpd_writer_job job;
    char user[64];
    int index;
    uv_sem_t *started, *gate; /* only the first job: hold its apply */
} add_job;

static int done_order[N_JOBS + 1], n_done;
static irp_status got_applied[N_JOBS + 1], got_committed[N_JOBS + 1];

static irp_status apply_add(irpd_store *w, irpd_writer_job *j)
{
    add_job *a = (add_job *)j;
    irp_status st = irpd_store_user_add(w, a->user, "test", NOW);
    if (a->started != NULL) {
        uv_sem_post(a->started);
        uv_sem_wait(a->gate);
    }
    return st;
}

static void done_add(irpd_writer_job *j, irp_status applied, irp_status committed)
{
    add_job *a = (add_job *)j;
    done_order[n_done++] = a->index;
    got_applied[a->index] = applied;
    got_committed[a->index] = committed;
}

/* on_drained: how many done()s had run each time it was called */
static int drained_at[8], n_drained;

static void on_drained(void *arg)
{
    (void)arg;
    if (n_drained < 8) drained_at[n_drained] = n_done;
    n_drained++;
}

static irpd_store *open_store(void)
{
    irpd_store *st = NULL;
    irpd_store_opts o = {.flags = IRPD_STORE_CREATE};
    assert_int_equal(irpd_testdb_open(dir, "irpd.db", &o, &st), 0);
    assert_string_equal(irpd_store_backend(st), irpd_testdb_backend());
    return st;
}

static void run_until_idle(uv_loop_t *loop, irpd_writer *wr)
{
    while (irpd_writer_pending(wr) > 0)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_group_commit_and_reads(void **state)
{
    uv_loop_t loop;
    irpd_writer *wr;
    uv_sem_t started, gate;
    add_job jobs[N_JOBS + 1];
    irpd_user u;

    assert_int_equal(uv_loop_init(&loop), 0);
    irpd_store *r = open_store(), *w = open_store();
    assert_int_equal(irpd_store_user_add(r, "old@example.org", "test", NOW), 0);
    assert_int_equal(uv_sem_init(&started, 0), 0);
    assert_int_equal(uv_sem_init(&gate, 0), 0);
    assert_int_equal(irpd_writer_start(&wr, &loop, w), 0);
    irpd_writer_on_drained(wr, on_drained, NULL);

    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i <= N_JOBS; i++) {
        jobs[i].job.apply = apply_add;
        jobs[i].job.done = done_add;
        jobs[i].index = i;
        /* job N_JOBS repeats job 1's user (in any case): refused with 409, alone */
        snprintf(jobs[i].user, sizeof jobs[i].user, "u%d@example.org", i == N_JOBS ? 1 : i);
        if (i == N_JOBS) jobs[i].user[0] = 'U';
    }
    jobs[0].started = &started;
    jobs[0].gate = &gate;
    assert_int_equal(irpd_writer_submit(wr, &jobs[0].job), 0);
    uv_sem_wait(&started); /* the writer is inside job 0's batch, its change not committed */

    for (int i = 1; i <= N_JOBS; i++) /* queued while the first group runs */
        assert_int_equal(irpd_writer_submit(wr, &jobs[i].job), 0);
    /* the loop's connection still reads, and sees only what is committed */
    assert_int_equal(irpd_store_user_get(r, "old@example.org", &u), 0);
    assert_int_equal(irpd_store_user_get(r, "u0@example.org", &u), IRP_NOT_FOUND);
    assert_int_equal(irpd_writer_pending(wr), N_JOBS + 1);
    assert_int_equal(n_done, 0);

    uv_sem_post(&gate);
    run_until_idle(&loop, wr);

    assert_int_equal(n_done, N_JOBS + 1);
    /* job 0; the refused job N_JOBS at once, before its group's commit; then 1.. in order */
    assert_int_equal(done_order[0], 0);
    assert_int_equal(done_order[1], N_JOBS);
    for (int i = 1; i < N_JOBS; i++)
        assert_int_equal(done_order[i + 1], i);
    for (int i = 0; i <= N_JOBS; i++) {
        assert_int_equal(got_applied[i], i == N_JOBS ? IRP_CONFLICT : 0);
        assert_int_equal(got_committed[i], 0);
    }
    irpd_writer_stats s = irpd_writer_get_stats(wr);
    assert_int_equal(s.jobs, N_JOBS + 1);
    assert_int_equal(s.batches, 2); /* job 0 alone, then everything queued meanwhile */
    assert_int_equal(s.failed, 0);
    /* after each round of done()s (one per post to the loop, or fewer), never inside one */
    assert_true(n_drained >= 1 && n_drained <= 3);
    assert_int_equal(drained_at[n_drained - 1], N_JOBS + 1);

    irpd_writer_stop(wr);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    irpd_store_close(w);
    irpd_store_close(r);
    uv_sem_destroy(&started);
    uv_sem_destroy(&gate);

    /* a new connection sees every change that was reported durable */
    irpd_store *again = open_store();
    for (int i = 0; i < N_JOBS; i++) {
        char name[64];
        snprintf(name, sizeof name, "u%d@example.org", i);
        assert_int_equal(irpd_store_user_get(again, name, &u), 0);
    }
    irpd_store_close(again);
}

static void test_stop_commits_the_queue(void **state)
{
    uv_loop_t loop;
    irpd_writer *wr;
    add_job jobs[5];
    irpd_user u;

    n_done = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    irpd_store *w = open_store();
    assert_int_equal(irpd_writer_start(&wr, &loop, w), 0);
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 5; i++) {
        jobs[i].job.apply = apply_add;
        jobs[i].job.done = done_add;
        jobs[i].index = i;
        snprintf(jobs[i].user, sizeof jobs[i].user, "stop%d@example.org", i);
        assert_int_equal(irpd_writer_submit(wr, &jobs[i].job), 0);
    }
    irpd_writer_stop(wr); /* no uv_run before: stop itself waits and runs the done()s */
    assert_int_equal(n_done, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(got_committed[i], 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    irpd_store_close(w);
    irpd_store *again = open_store();
    assert_int_equal(irpd_store_user_get(again, "stop4@example.org", &u), 0);
    irpd_store_close(again);
}

/*
 * 10.2: a refused write is answered at once, not after its group's commit.
 * Group 2 is [job 1: a change, job 2: refused (409), job 3: a change whose
 * apply the test holds]: while job 3 is held, so before the group commits,
 * job 2's done() must already have run, and job 1's not.
 */
static void test_refused_done_before_commit(void **state)
{
    uv_loop_t loop;
    irpd_writer *wr;
    uv_sem_t started0, gate0, started3, gate3;
    add_job jobs[4];
    int early, first_not_yet;

    n_done = 0;
    memset(got_applied, 0, sizeof got_applied);
    memset(got_committed, 0, sizeof got_committed);
    assert_int_equal(uv_loop_init(&loop), 0);
    irpd_store *w = open_store();
    assert_int_equal(irpd_store_user_add(w, "taken@example.org", "test", NOW), 0);
    assert_int_equal(uv_sem_init(&started0, 0), 0);
    assert_int_equal(uv_sem_init(&gate0, 0), 0);
    assert_int_equal(uv_sem_init(&started3, 0), 0);
    assert_int_equal(uv_sem_init(&gate3, 0), 0);
    assert_int_equal(irpd_writer_start(&wr, &loop, w), 0);
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 4; i++) {
        jobs[i].job.apply = apply_add;
        jobs[i].job.done = done_add;
        jobs[i].index = i;
        if (i == 2)
            snprintf(jobs[i].user, sizeof jobs[i].user, "Taken@example.org"); /* 409 */
        else
            snprintf(jobs[i].user, sizeof jobs[i].user, "r%d@example.org", i);
    }
    jobs[0].started = &started0;
    jobs[0].gate = &gate0;
    jobs[3].started = &started3;
    jobs[3].gate = &gate3;
    assert_int_equal(irpd_writer_submit(wr, &jobs[0].job), 0);
    uv_sem_wait(&started0); /* group 1: job 0 alone; jobs 1..3 queue behind it */
    for (int i = 1; i < 4; i++)
        assert_int_equal(irpd_writer_submit(wr, &jobs[i].job), 0);
    uv_sem_post(&gate0);
    uv_sem_wait(&started3); /* group 2 is being applied: job 2 was refused, no commit yet */
    /* the refusal was posted to the loop before job 3's apply began: no waiting needed */
    for (int i = 0; i < 4 && got_applied[2] != IRP_CONFLICT; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    early = n_done >= 2 && done_order[n_done - 1] == 2;
    first_not_yet = n_done == 2; /* job 0 (group 1) and job 2; job 1 waits for the commit */
    uv_sem_post(&gate3);
    run_until_idle(&loop, wr);
    assert_true(early);
    assert_true(first_not_yet);
    assert_int_equal(n_done, 4);
    assert_int_equal(got_applied[2], IRP_CONFLICT);
    assert_int_equal(got_committed[2], 0); /* it changed nothing: nothing to commit */
    for (int i = 0; i < 4; i++)
        if (i != 2) assert_int_equal(got_committed[i], 0);
    assert_int_equal(done_order[2], 1); /* the others in submission order */
    assert_int_equal(done_order[3], 3);

    irpd_writer_stop(wr);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    irpd_store_close(w);
    uv_sem_destroy(&started0);
    uv_sem_destroy(&gate0);
    uv_sem_destroy(&started3);
    uv_sem_destroy(&gate3);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_irpd_writer.XXXXXX");
    if (mkdtemp(dir) == NULL) return -1;
    snprintf(path, sizeof path, "%s/irpd.db", dir);
    irpd_testdb_reset(dir, "irpd.db");
    return 0;
}

static int teardown(void **state)
{
    char p[128];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit_and_reads),
        cmocka_unit_test(test_stop_commits_the_queue),
        cmocka_unit_test(test_refused_done_before_commit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
