/* --open: a URL opened in the desktop's browser. */
#ifndef MS_OPENURL_H
#define MS_OPENURL_H

/* Opens url with xdg-open when there is a display (DISPLAY or
 * WAYLAND_DISPLAY) and xdg-open is on the PATH, without waiting for the
 * browser. Returns 0, or -1 after saying why not and what to open by
 * hand. */
int openurl(const char *url);

#endif
