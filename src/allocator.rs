//! The C allocator's settings that matter to a long-running controller: its arenas, where
//! large blocks come from, and handing free pages back.
//!
//! glibc gives threads that allocate at the same time arenas of their own, up to eight per
//! core, and an arena keeps what is freed in it for its own later use. A controller's
//! passes run on many blocking threads, so every site's long-lived state (its status, its
//! metrics, its lab world) ends up spread over sixteen arenas on two cores, each holding
//! free space the others cannot use. Measured on one controller owning 10,000 converged
//! lab sites: 308 MiB resident with glibc's default, 242 MiB with two arenas, at the same
//! CPU (docs/fleet.md).
//!
//! glibc also raises the size from which a block is mapped on its own (instead of carved
//! from an arena) each time a mapped block is freed, up to 32 MiB. A controller's large
//! blocks are short-lived — the `/metrics` text of 10,000 sites is 20 MB, a takeover's
//! etcd answers several — so after the first scrape they came from the arenas, and what
//! they left there stayed resident between hand-backs: 245–253 MiB for the same 10,000
//! sites, against 220–228 MiB with the threshold held at glibc's initial 128 KiB (three
//! runs each, docs/fleet.md).

/// How often a controller hands the allocator's free pages back to the system.
pub const GIVE_BACK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Arenas a controller uses, unless the admin set `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES`.
pub const ARENAS: i32 = 2;

/// Size from which a block gets a mapping of its own, returned to the system when freed:
/// glibc's initial threshold, held there (see the module's documentation).
pub const MAPPED_FROM: i32 = 128 * 1024;

/// Limits the allocator to [`ARENAS`] arenas and holds its mapping threshold at
/// [`MAPPED_FROM`]; called before the runtime starts its threads. Each setting the admin
/// made in the environment (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`, or either in
/// `GLIBC_TUNABLES`) is left as set. Elsewhere than glibc (musl, Windows) there is nothing
/// to set.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let set_by_admin = |variable: &str, tunable: &str| {
            std::env::var_os(variable).is_some() || tunables.contains(tunable)
        };
        if !set_by_admin("MALLOC_ARENA_MAX", "malloc.arena_max") {
            set(libc::M_ARENA_MAX, ARENAS, "number of arenas");
        }
        if !set_by_admin("MALLOC_MMAP_THRESHOLD_", "malloc.mmap_threshold") {
            set(libc::M_MMAP_THRESHOLD, MAPPED_FROM, "mapping threshold");
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set(parameter: libc::c_int, value: libc::c_int, what: &str) {
    // SAFETY: mallopt sets one parameter of glibc's allocator and touches no memory of ours;
    // M_ARENA_MAX takes a positive count and M_MMAP_THRESHOLD a size under 32 MiB, and glibc
    // documents both as safe to set at any time (blocks made before keep where they are).
    #[allow(unsafe_code)]
    let done = unsafe { libc::mallopt(parameter, value) };
    if done != 1 {
        tracing::debug!("the allocator kept its default {what}");
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
