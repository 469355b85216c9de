/* A `switch` dispatch loop (compiles to br_table): a tiny bytecode VM. */
#include "common.h"

enum { PUSH, ADD, SUB, MUL, DUP, SWAP, JNZ, DEC, POP, XOR, SHL, HALT };

static const unsigned char program[] = {
    PUSH, 0,            /* acc */
    PUSH, 200,          /* counter */
    /* loop: */
    SWAP, PUSH, 3, MUL, PUSH, 7, ADD, PUSH, 1, SHL, PUSH, 5, XOR, SWAP,
    DEC, DUP, JNZ, 4,
    POP, HALT,
};

KERNEL {
    /* Unsigned so the deliberate overflow of MUL/SHL/ADD wraps instead of being UB. */
    u32 stack[16];
    u32 result = 0;
    for (int rep = 0; rep < n; rep++) {
        int sp = 0, pc = 0, running = 1;
        while (running) {
            switch (program[pc++]) {
            case PUSH: stack[sp++] = program[pc++] + (u32)rep; break;
            case ADD: sp--; stack[sp - 1] += stack[sp]; break;
            case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
            case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
            case DUP: stack[sp] = stack[sp - 1]; sp++; break;
            case SWAP: { u32 t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; } break;
            case JNZ: { int t = (int)stack[--sp]; int target = program[pc++]; if (t > rep) pc = target; } break;
            case DEC: stack[sp - 1]--; break;
            case POP: sp--; break;
            case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
            case SHL: sp--; stack[sp - 1] <<= (stack[sp] & 7); break;
            default: running = 0; break;
            }
        }
        result += stack[0];
    }
    return (int)result;
}
