/*
 * SPDX-License-Identifier: ISC
 * notify.h - readiness and status for systemd (Type=notify), see notify.c.
 */
#ifndef SMTPREPLY_MILTER_NOTIFY_H
#define SMTPREPLY_MILTER_NOTIFY_H

/*
 * Send STATE ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...",
 * newline-separated) to $NOTIFY_SOCKET. Returns 1 when sent, 0 when the
 * variable is not set (not started by systemd), -1 with errno on error.
 */
int notify_send(const char *state);

#endif /* SMTPREPLY_MILTER_NOTIFY_H */
