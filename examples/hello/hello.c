/* The program inside chapter 03's image: static, so the image needs no libc, no shell, no
 * other file at all. It says hello and where it runs, which is what `docker run` shows. */
#include <stdio.h>
#include <sys/utsname.h>

int main(void) {
    struct utsname host;
    if (uname(&host) != 0) return 1;
    printf("Hello from hello-workbook, an image built in C++ (running on %s %s).\n",
           host.sysname, host.machine);
    return 0;
}
