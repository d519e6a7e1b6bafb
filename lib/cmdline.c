/* SPDX-License-Identifier: MIT */
/* Command-line word lookup and number parsing; see lamina/cmdline.h. */
#include <lamina/cmdline.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool cmdline_find(const char *cmdline, const char *key, char *val, size_t val_size)
{
    size_t key_len = 0;
    bool found = false;

    if (!cmdline || !key)
        return false;
    while (key[key_len])
        key_len++;
    if (key_len == 0)
        return false;

    const char *p = cmdline;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *word = p;
        while (*p && !is_space(*p))
            p++;
        size_t word_len = (size_t)(p - word);
        if (word_len < key_len)
            continue;
        bool same = true;
        for (size_t i = 0; i < key_len; i++)
            if (word[i] != key[i]) {
                same = false;
                break;
            }
        if (!same || (word_len > key_len && word[key_len] != '='))
            continue;
        found = true;
        if (val && val_size) {
            const char *v = word_len > key_len ? word + key_len + 1 : word + word_len;
            size_t n = (size_t)(p - v);
            if (n > val_size - 1)
                n = val_size - 1;
            for (size_t i = 0; i < n; i++)
                val[i] = v[i];
            val[n] = '\0';
        }
    }
    return found;
}

int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;

    if (!s || !*s)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return -1;
    }
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
    uint64_t v = 0;
    size_t n = 0;
    unsigned shift = 0;

    if (!s)
        return -1;
    /* Digits are accumulated here with an overflow check, not copied into a
     * bounded buffer first, so leading zeros cannot make a valid size too
     * long to parse. */
    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        unsigned d = (unsigned)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (n == 0)
        return -1;
    switch (s[n]) {
    case '\0': shift = 0; break;
    case 'b': case 'B': shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return -1;
    }
    if (s[n] && s[n + 1])
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *bytes = v << shift;
    return 0;
}
