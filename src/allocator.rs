//! The C allocator's settings that matter to a long-running controller: its arenas, and
//! handing free pages back.
//!
//! glibc gives threads that allocate at the same time arenas of their own, up to eight per
//! core, and an arena keeps what is freed in it for its own later use. A controller's
//! passes run on many blocking threads, so every site's long-lived state (its status, its
//! metrics, its lab world) ends up spread over sixteen arenas on two cores, each holding
//! free space the others cannot use. Measured on one controller owning 10,000 converged
//! lab sites: 308 MiB resident with glibc's default, 242 MiB with two arenas, at the same
//! CPU (docs/fleet.md).

/// How often a controller hands the allocator's free pages back to the system.
pub const GIVE_BACK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

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

/// Hands free pages inside the allocator's arenas back to the system. glibc returns memory
/// on its own only from the top of an arena, so pages freed in the middle (a takeover's
/// reads, a reload's parse) stay resident until asked. Walking the arenas takes a few
/// milliseconds for a controller of 10,000 sites, once a minute ([`GIVE_BACK_EVERY`]).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only returns whole free pages of glibc's own arenas to the
        // system (madvise); it touches no memory in use and takes the arenas' locks itself.
        #[allow(unsafe_code)]
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// Calls [`give_back`] every [`GIVE_BACK_EVERY`] on the blocking pool until `stopped`.
pub async fn give_back_regularly(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(GIVE_BACK_EVERY);
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => {
                let _ = tokio::task::spawn_blocking(give_back).await;
            }
            _ = stopped.changed() => return,
        }
    }
}
