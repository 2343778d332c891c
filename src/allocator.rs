//! The C allocator's one setting that matters to a long-running controller.
//!
//! glibc gives threads that allocate at the same time arenas of their own, up to eight per
//! core, and an arena keeps what is freed in it for its own later use. A controller's
//! passes run on many blocking threads, so every site's long-lived state (its status, its
//! metrics, its lab world) ends up spread over sixteen arenas on two cores, each holding
//! free space the others cannot use. Measured on one controller owning 10,000 converged
//! lab sites: 308 MiB resident with glibc's default, 245 MiB with two arenas, at the same
//! CPU (docs/fleet.md).

/// Arenas a controller uses, unless the admin set `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES`.
pub const ARENAS: i32 = 2;

/// Limits the allocator to [`ARENAS`] arenas; called before the runtime starts its threads.
/// Elsewhere than glibc (musl, Windows) there is nothing to set.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var_os("GLIBC_TUNABLES").is_some()
        {
            return;
        }
        // SAFETY: mallopt sets one parameter of glibc's allocator and touches no memory of
        // ours; M_ARENA_MAX takes a positive count, and glibc documents it as safe to set at
        // any time (arenas made before stay).
        #[allow(unsafe_code)]
        let set = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        if set != 1 {
            tracing::debug!("the allocator kept its default number of arenas");
        }
    }
}
