/* SPDX-License-Identifier: MIT */
/*
 * dom0's line-oriented shell: a line editor fed one byte at a time, and a
 * table of commands. New subsystems (the toolstack later) add commands by
 * extending the table in commands.c.
 */
#ifndef DOM0_SHELL_H
#define DOM0_SHELL_H
#include <stdbool.h>

#define SHELL_PROMPT "dom0# "
#define SHELL_MAX_ARGS 16

struct shell_command {
    const char *name;
    const char *help;
    /* argv[0] is the command name. */
    void (*run)(int argc, char **argv);
};

/* The command table, terminated by an entry with a NULL name. */
extern const struct shell_command shell_commands[];

/* Prints the prompt. */
void shell_start(void);
/* Prints the prompt and the line typed so far again, after something else
 * printed a message of its own at the prompt. */
void shell_redraw(void);
/* Feeds one input byte: echo, editing, and running complete lines. */
void shell_input(char c);

#endif
