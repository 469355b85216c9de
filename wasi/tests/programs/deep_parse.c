/* Deep recursion with compiler-like frames: a recursive-descent parser and
 * evaluator for an expression nested DEPTH levels deep, the way GCC's cc1
 * recurses through its C parser (expression -> binary -> unary -> postfix
 * -> primary -> '(' expression ')'). Each level passes through five
 * functions; the big ones switch over the token kinds with temporaries of
 * their own in every arm, so their frames hold many wasm locals of which
 * few are live across the recursive call — what makes cc1's frames large
 * in an interpreter that keeps every local in memory.
 *
 *   deep_parse DEPTH           parse and evaluate; print the result
 *   deep_parse DEPTH runaway   recurse without end (the input never closes)
 *
 * The output is the same natively (where the stack is 8 MiB) and under any
 * WebAssembly runtime whose stack fits DEPTH levels. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *text;
    size_t pos;
    size_t len;
    int runaway;           /* past the end, read '(' forever */
    uint64_t hash;    /* mixes every value produced */
    uint64_t nodes;   /* parse-tree nodes built */
    int max_level;
};

static char peek(struct parser *ps) {
    if (ps->pos < ps->len)
        return ps->text[ps->pos];
    return ps->runaway ? '(' : '\0';
}

static char next(struct parser *ps) {
    char c = peek(ps);
    ps->pos++;
    return c;
}

static void expect(struct parser *ps, char c) {
    char got = next(ps);
    if (got != c) {
        printf("syntax error at %zu: expected '%c', got '%c'\n", ps->pos - 1, c, got ? got : '0');
        exit(2);
    }
}

static int64_t mix(struct parser *ps, int64_t v, int kind) {
    ps->hash = (ps->hash ^ (uint64_t)v) * 0x100000001b3ull + (uint64_t)kind;
    ps->nodes++;
    return v;
}

static int64_t expression(struct parser *ps, int level);

/* Wrapping arithmetic (no signed overflow, so every build agrees). */
static int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wmul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

/* primary: NUMBER | '(' expression ')' | '[' expression ',' expression ']'
 *        | '{' expression ';' expression ';' expression '}' */
__attribute__((noinline)) static int64_t primary(struct parser *ps, int level) {
    if (level > ps->max_level)
        ps->max_level = level;
    char c = next(ps);
    switch (c) {
    case '(': {
        int64_t v = expression(ps, level + 1);
        expect(ps, ')');
        return mix(ps, v, 1);
    }
    case '[': {
        int64_t a = expression(ps, level + 1);
        expect(ps, ',');
        int64_t b = expression(ps, level + 1);
        expect(ps, ']');
        int64_t lo = a < b ? a : b, hi = a < b ? b : a;
        int64_t span = wadd(hi, -lo), mid = wadd(lo, span / 2);
        return mix(ps, mid ^ wmul(span, 8), 2);
    }
    case '{': {
        int64_t a = expression(ps, level + 1);
        expect(ps, ';');
        int64_t b = expression(ps, level + 1);
        expect(ps, ';');
        int64_t d = expression(ps, level + 1);
        expect(ps, '}');
        int64_t s1 = wadd(wadd(a, b), d), s2 = wadd(wadd(wmul(a, 3), wmul(b, -5)), wmul(d, 7));
        int64_t s3 = (a ^ b) | (b ^ d);
        int64_t r = s1 % 1000003 + s2 % 9973 - s3 % 613;
        return mix(ps, r, 3);
    }
    default:
        if (c >= '0' && c <= '9') {
            int64_t v = c - '0';
            while (peek(ps) >= '0' && peek(ps) <= '9')
                v = v * 10 + (next(ps) - '0');
            return mix(ps, v, 4);
        }
        printf("syntax error at %zu: unexpected '%c'\n", ps->pos - 1, c ? c : '0');
        exit(2);
    }
}

/* postfix: primary ( '!' | '\'' | '#' NUMBER )* */
__attribute__((noinline)) static int64_t postfix(struct parser *ps, int level) {
    int64_t v = primary(ps, level);
    for (;;) {
        char c = peek(ps);
        if (c == '!') {
            next(ps);
            int64_t f = 1, k = v % 12;
            for (int64_t i = 2; i <= k; i++)
                f = wmul(f, i);
            v = mix(ps, f, 5);
        } else if (c == '\'') {
            next(ps);
            uint64_t x = (uint64_t)v;
            x ^= x >> 33;
            x *= 0xff51afd7ed558ccdull;
            x ^= x >> 33;
            v = mix(ps, (int64_t)(x & 0xffff), 6);
        } else if (c == '#') {
            next(ps);
            int64_t n = 0;
            while (peek(ps) >= '0' && peek(ps) <= '9')
                n = n * 10 + (next(ps) - '0');
            int64_t q = n ? v / n : v, r = n ? v % n : 0;
            v = mix(ps, wadd(wmul(q, 31), r), 7);
        } else {
            return v;
        }
    }
}

/* unary: ('-' | '~' | '@') unary | postfix */
__attribute__((noinline)) static int64_t unary(struct parser *ps, int level) {
    char c = peek(ps);
    switch (c) {
    case '-':
        next(ps);
        return mix(ps, wmul(unary(ps, level), -1), 8);
    case '~':
        next(ps);
        return mix(ps, ~unary(ps, level), 9);
    case '@': {
        next(ps);
        int64_t v = unary(ps, level);
        int64_t sq = wmul(v, v), cube = wmul(sq, v), avg = wadd(sq, cube) / 2;
        return mix(ps, avg % 65521, 10);
    }
    default:
        return postfix(ps, level);
    }
}

/* Binary operators by precedence climbing, as GCC's
 * c_parser_binary_expression does: one function for every level, with a
 * table of precedences and the pending operands in locals. */
static int precedence(char op) {
    switch (op) {
    case '|': return 1;
    case '^': return 2;
    case '&': return 3;
    case '<': case '>': return 4;
    case '+': case '-': return 5;
    case '*': case '/': case '%': return 6;
    default: return 0;
    }
}

static int64_t apply(struct parser *ps, char op, int64_t a, int64_t b) {
    int64_t r;
    switch (op) {
    case '|': r = a | b; break;
    case '^': r = a ^ b; break;
    case '&': r = a & b; break;
    case '<': r = a < b; break;
    case '>': r = a > b; break;
    case '+': r = wadd(a, b); break;
    case '-': r = wadd(a, wmul(b, -1)); break;
    case '*': r = wmul(a % 1000000007, b % 1000000007) % 1000000007; break;
    case '/': r = b && !(a == INT64_MIN && b == -1) ? a / b : 0; break;
    default: r = b && b != -1 ? a % b : 0; break;
    }
    return mix(ps, r, 11);
}

__attribute__((noinline)) static int64_t binary(struct parser *ps, int level, int min_prec) {
    int64_t lhs = unary(ps, level);
    for (;;) {
        char op = peek(ps);
        int prec = precedence(op);
        if (prec == 0 || prec < min_prec)
            return lhs;
        next(ps);
        int64_t rhs = binary(ps, level, prec + 1);
        lhs = apply(ps, op, lhs, rhs);
    }
}

/* expression: binary ( '?' expression ':' expression )? */
__attribute__((noinline)) static int64_t expression(struct parser *ps, int level) {
    int64_t cond = binary(ps, level, 1);
    if (peek(ps) != '?')
        return cond;
    next(ps);
    int64_t a = expression(ps, level + 1);
    expect(ps, ':');
    int64_t b = expression(ps, level + 1);
    return mix(ps, cond ? a : b, 12);
}

/* Appends `s` to the buffer at `*at`. */
static void put(char *buf, size_t *at, const char *s) {
    size_t n = strlen(s);
    memcpy(buf + *at, s, n);
    *at += n;
}

/* The input: DEPTH nested levels, cycling through the constructs that
 * recurse (each opens one level and closes it after its operands). */
static char *build(int depth, size_t *len) {
    static const char *open[] = {"(", "-(", "[1,", "{2;3;", "@(", "(7*", "~(", "(1+2*"};
    static const char *close[] = {")", ")", "]", "}", ")", ")#3", ")", ")!"};
    size_t cap = (size_t)depth * 8 + 16;
    char *buf = malloc(cap);
    if (!buf) {
        printf("out of memory\n");
        exit(3);
    }
    size_t at = 0;
    for (int i = 0; i < depth; i++)
        put(buf, &at, open[i % 8]);
    put(buf, &at, "42");
    for (int i = depth - 1; i >= 0; i--)
        put(buf, &at, close[i % 8]);
    buf[at] = '\0';
    *len = at;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        printf("usage: deep_parse DEPTH [runaway]\n");
        return 1;
    }
    int depth = atoi(argv[1]);
    struct parser ps = {0};
    ps.text = build(depth, &ps.len);
    ps.runaway = argc > 2 && strcmp(argv[2], "runaway") == 0;
    if (ps.runaway)
        ps.len = 0; /* nothing but '(' */
    int64_t v = expression(&ps, 0);
    if (ps.pos != ps.len) {
        printf("trailing input at %zu\n", ps.pos);
        return 2;
    }
    printf("depth %d: value %" PRId64 ", %" PRIu64 " nodes, deepest level %d, hash %016" PRIx64 "\n", depth,
           v, ps.nodes, ps.max_level, ps.hash);
    return 0;
}
