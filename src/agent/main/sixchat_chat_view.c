/*
 * sixchat_chat_view.c - the chat on the terminal (ncursesw): the
 * scrollback above, a status line, the input line at the bottom; keys to
 * model operations. Drawing only: what is drawn comes from the model.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat_chat.h"

#define PROMPT "> "

int chat_view_open(void)
{
    if (!initscr()) return -1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    /* Keys are read only when poll() says stdin is readable: never wait here. */
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    return 0;
}

void chat_view_close(void)
{
    endwin();
}

void chat_view_draw(chat_model *m, uint64_t now)
{
    int h, w;
    getmaxyx(stdscr, h, w);
    erase();
    int body = h - 2;
    if (body > 0) {
        char **rows = calloc((size_t)body, sizeof(*rows));
        if (rows) {
            size_t n = chat_model_rows(m, w, body, rows);
            for (size_t i = 0; i < n; i++) {
                mvaddnstr((int)i, 0, rows[i], -1);
                free(rows[i]);
            }
            free(rows);
        }
    }
    if (h >= 2) {
        char st[512];
        chat_model_status(m, now, st, sizeof(st));
        attron(A_REVERSE);
        mvhline(h - 2, 0, ' ', w);
        mvaddnstr(h - 2, 0, st, -1);
        attroff(A_REVERSE);
    }
    int pw = (int)strlen(PROMPT);
    char line[4 * 1024];
    int col = 0;
    chat_input_view(&m->in, w - pw > 1 ? w - pw : 1, line, sizeof(line), &col);
    mvaddstr(h - 1, 0, PROMPT);
    addstr(line);
    move(h - 1, pw + col);
    refresh();
}

chat_action chat_view_keys(chat_model *m)
{
    chat_action act = CHAT_ACT_NONE;
    wint_t c;
    int r;
    while ((r = get_wch(&c)) != ERR) {
        if (r == KEY_CODE_YES) {
            switch (c) {
            case KEY_LEFT:
                chat_input_left(&m->in);
                break;
            case KEY_RIGHT:
                chat_input_right(&m->in);
                break;
            case KEY_HOME:
                chat_input_home(&m->in);
                break;
            case KEY_END:
                chat_input_end(&m->in);
                break;
            case KEY_UP:
                chat_input_hist_up(&m->in);
                break;
            case KEY_DOWN:
                chat_input_hist_down(&m->in);
                break;
            case KEY_PPAGE:
                m->scroll += (size_t)(LINES > 4 ? LINES / 2 : 1);
                break;
            case KEY_NPAGE:
                m->scroll = m->scroll > (size_t)(LINES / 2) ? m->scroll - (size_t)(LINES / 2) : 0;
                break;
            case KEY_BACKSPACE:
                chat_input_backspace(&m->in);
                if (act < CHAT_ACT_EDIT) act = CHAT_ACT_EDIT;
                break;
            case KEY_DC:
                chat_input_delete(&m->in);
                if (act < CHAT_ACT_EDIT) act = CHAT_ACT_EDIT;
                break;
            case KEY_ENTER:
                return CHAT_ACT_SUBMIT;
            case KEY_RESIZE:
                break; /* the next draw uses the new size */
            default:
                break;
            }
            continue;
        }
        switch (c) {
        case '\r':
        case '\n':
            return CHAT_ACT_SUBMIT;
        case 1:
            chat_input_home(&m->in);
            break; /* ctrl-a */
        case 5:
            chat_input_end(&m->in);
            break; /* ctrl-e */
        case 2:
            chat_input_left(&m->in);
            break; /* ctrl-b */
        case 6:
            chat_input_right(&m->in);
            break; /* ctrl-f */
        case 4:    /* ctrl-d: quit on an empty line */
            if (!m->in.len) return CHAT_ACT_QUIT;
            chat_input_delete(&m->in);
            act = CHAT_ACT_EDIT;
            break;
        case 8:
        case 127:
            chat_input_backspace(&m->in);
            act = CHAT_ACT_EDIT;
            break;
        case 21: /* ctrl-u */
            chat_input_kill_back(&m->in);
            act = CHAT_ACT_EDIT;
            break;
        case 11: /* ctrl-k */
            chat_input_kill_fwd(&m->in);
            act = CHAT_ACT_EDIT;
            break;
        case 12:
            clearok(curscr, TRUE);
            break; /* ctrl-l: redraw everything */
        default:
            if (chat_input_insert(&m->in, (uint32_t)c) == 0) act = CHAT_ACT_EDIT;
            break;
        }
    }
    return act;
}
