/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * replay_main.c - a main() for the fuzz targets when they are built without
 * libFuzzer (gcc, the normal build): it runs LLVMFuzzerTestOneInput once on
 * each file named on the command line, and on every regular file of each
 * directory named there, in name order. A crash or an abort() in a target
 * fails the run, which is how ctest replays the seed corpora everywhere.
 * Arguments starting with '-' (libFuzzer flags) are ignored. An argument
 * that cannot be read is an error: a missing corpus must not pass quietly.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the target on one file; the input is an exact-size heap copy so ASan sees overreads. */
static int run_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(buf, cap);
            if (!p) {
                fprintf(stderr, "replay: out of memory reading '%s'\n", path);
                rc = -1;
                goto out;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        rc = -1;
        goto out;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        rc = -1;
        goto out;
    }
    if (len)
        memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    (*count)++;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int only_files(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int run_dir(const char *dir, size_t *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, only_files, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot read directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = run_file(path, count);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        struct stat st;
        if (argv[i][0] == '-')
            continue;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: cannot open '%s': %s\n", argv[i], strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = run_dir(argv[i], &count);
        } else {
            rc = run_file(argv[i], &count);
        }
    }
    printf("replay: %zu inputs ran\n", count);
    return rc ? 1 : 0;
}
