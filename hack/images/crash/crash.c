/* Exits with status 1 at once, after saying so: the CrashLoopBackOff image. */
#include <stdio.h>

int main(void) {
    fputs("podtrace/crash: exiting with status 1 on purpose\n", stderr);
    return 1;
}
