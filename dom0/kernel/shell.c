/* SPDX-License-Identifier: MIT */
/* Line editing and command dispatch for dom0's console shell. */
#include <lamina/string.h>
#include "console.h"
#include "shell.h"
#include "../backends/console/console_backend.h"

#define LINE_MAX 256
#define CTRL_C 0x03
#define BACKSPACE 0x08
#define ESCAPE 0x1b
#define DELETE 0x7f

static char line[LINE_MAX];
static size_t line_len;
static bool last_was_cr;
/* Inside an escape sequence (arrow keys and the like), which we ignore:
 * 1 after ESC, 2 after ESC [. */
static int escape_state;

void shell_start(void)
{
    con_write(SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
}

void shell_redraw(void)
{
    shell_start();
    con_write(line, line_len);
}

static void run_line(void)
{
    char *argv[SHELL_MAX_ARGS];
    int argc = 0;
    char *p = line;

    line[line_len] = '\0';
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == SHELL_MAX_ARGS) {
            con_printf("dom0: too many words (at most %d)\n", SHELL_MAX_ARGS);
            return;
        }
        argv[argc++] = p;
        /* Quotes group words and stay in the word: xl reads them as config
         * syntax (extra='a b'). */
        char quote = 0;
        while (*p && (quote || (*p != ' ' && *p != '\t'))) {
            if (quote && *p == quote)
                quote = 0;
            else if (!quote && (*p == '\'' || *p == '"'))
                quote = *p;
            p++;
        }
    }
    if (argc == 0)
        return;
    for (const struct shell_command *cmd = shell_commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[0]) == 0) {
            cmd->run(argc, argv);
            return;
        }
    }
    con_printf("dom0: unknown command '%s' (type 'help' for the list)\n", argv[0]);
}

static bool skip_escape(char c)
{
    if (escape_state == 1) {
        escape_state = c == '[' ? 2 : 0;
        return true;
    }
    if (escape_state == 2) {
        /* Parameters are digits and ';'; a final byte ends the sequence. */
        if (!((c >= '0' && c <= '9') || c == ';'))
            escape_state = 0;
        return true;
    }
    return false;
}

void shell_input(char c)
{
    bool was_cr = last_was_cr;

    last_was_cr = c == '\r';
    if (skip_escape(c))
        return;
    switch (c) {
    case '\n':
        if (was_cr)
            return;     /* the LF of a CR LF pair */
        /* fall through */
    case '\r':
        con_write("\n", 1);
        run_line();
        line_len = 0;
        if (!console_backend_attached())
            shell_start();
        return;
    case BACKSPACE:
    case DELETE:
        if (line_len > 0) {
            line_len--;
            con_write("\b \b", 3);
        }
        return;
    case CTRL_C:
        con_write("^C\n", 3);
        line_len = 0;
        shell_start();
        return;
    case ESCAPE:
        escape_state = 1;
        return;
    default:
        break;
    }
    if (c < 0x20 || c > 0x7e)
        return;
    if (line_len + 1 >= LINE_MAX)
        return;
    line[line_len++] = c;
    con_write(&c, 1);
}
