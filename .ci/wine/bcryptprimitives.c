/* ProcessPrng for Wine 8.0 (Debian 12), which lacks bcryptprimitives.dll: Rust's standard
   library imports it for random numbers since Rust 1.78; every Windows since 10 and Server
   2016 has it. Only the Wine smoke test (.ci/windows-smoke) uses this. */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
