/* Safe extraction of zip, tar and compressed tar archives into a directory: no entry lands, and no
 * link points, outside it. Used for CodeBuild sources and CodeDeploy bundles. */
#ifndef CPL_RUNTIME_EXTRACT_H
#define CPL_RUNTIME_EXTRACT_H

#include <stddef.h>

/* Errors of the extractor: its reserved range is -140 to -149 (runtime's range). */
#define RT_EX_EINVAL  (-140) /* bad arguments (NULL, dir not a directory) */
#define RT_EX_EFORMAT (-141) /* not a readable zip, tar, tar.gz/bz2/xz (or truncated) */
#define RT_EX_EUNSAFE                                                                              \
    (-142)                  /* an entry escapes dir: absolute, "..", a link pointing out, a path   \
                               through a link, a device or fifo */
#define RT_EX_EIO    (-143) /* a file could not be written (disk full, permissions) */
#define RT_EX_ELIMIT (-144) /* more bytes or entries than the caller allows */

/* Limits; zero fields mean "no limit". */
struct rt_extract_limits {
    unsigned long long max_bytes; /* total uncompressed size of the regular files */
    unsigned long max_entries;
};

/* Normalises the relative archive path in (drops "." components, a leading "./" and repeated or
 * trailing '/') into out. Returns the length written (0 for the archive's root "."), or -1 when
 * in is absolute, has a ".." component, a NUL-free control-free form does not fit cap, or is
 * empty. */
int rt_path_normalize(const char *in, char *out, size_t cap);

/* Extracts the archive file at path into dir (an existing directory, which should hold no
 * symbolic links of its own). The format and compression are detected from the bytes. Every
 * entry is checked first, so that an unsafe or unreadable archive writes nothing; then regular
 * files, directories, symbolic links and hard links are written with their permission bits
 * (setuid, setgid and sticky bits dropped) and times, never their owners. limits may be NULL.
 * Returns 0, or an RT_EX_* error with a one-line reason (naming the entry) in err. */
int rt_extract_file(const char *path, const char *dir, const struct rt_extract_limits *limits,
                    char *err, size_t errlen);

#endif
