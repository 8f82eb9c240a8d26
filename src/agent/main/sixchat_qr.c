/*
 * sixchat_qr.c - a fingerprint as a QR code on the terminal (libqrencode),
 * drawn with half blocks so that two modules rows fit one text line.
 */
#include <stdio.h>

#include "sixchat_cli.h"

#ifdef SIXCHAT_HAVE_QRENCODE
#include <qrencode.h>

void sx_qr(const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) return;
    int w = q->width, quiet = 2;
    /* Dark modules as spaces on a light background read best on dark terminals too. */
    for (int y = -quiet; y < w + quiet; y += 2) {
        for (int xx = -quiet; xx < w + quiet; xx++) {
            int top = y >= 0 && y < w && xx >= 0 && xx < w && (q->data[y * w + xx] & 1);
            int bot =
                y + 1 >= 0 && y + 1 < w && xx >= 0 && xx < w && (q->data[(y + 1) * w + xx] & 1);
            fputs(top ? (bot ? " " : "\xe2\x96\x84") : (bot ? "\xe2\x96\x80" : "\xe2\x96\x88"),
                  stdout);
        }
        fputc('\n', stdout);
    }
    QRcode_free(q);
}
#else
void sx_qr(const char *text)
{
    (void)text; /* built without libqrencode */
}
#endif
