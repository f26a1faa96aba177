//! Running a process under `strace -f` and reading the trace back: which directories it
//! created and which directories it fsynced, to check that every new directory entry was
//! made durable by a sync of its parent.
//!
//! The trace is one file (`-o FILE`, no `-ff`), every line prefixed with the thread id.
//! A call another thread interrupts is split into `NAME(ARGS <unfinished ...>` and
//! `<... NAME resumed>REST) = RESULT`, the two halves joined here. File descriptors belong
//! to fd tables, shared by threads (`clone` with `CLONE_FILES`) and copied for new
//! processes; they are followed from `open`/`openat` results to `close`, so an `fsync(5)`
//! is known to be of the directory fd 5 was opened on. Paths relative to `AT_FDCWD` are
//! taken relative to the directory the process was started in (a `chdir` is not followed);
//! a sync through a `dup`ed fd is not recognised (the check fails, it does not pass).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// The system calls traced: those that create, open, sync and close files and
/// directories, and those that create threads and processes (to know the fd tables).
/// `?` keeps strace from refusing names an architecture lacks (`mkdir`, `open` on arm64).
const SYSCALLS: &str =
    "trace=?mkdir,mkdirat,?open,openat,fsync,fdatasync,close,clone,?clone3,?fork,?vfork";

/// A command that runs `program` (add its arguments) under `strace -f`, the trace written
/// to `out`. Panics, saying why, when strace is missing or may not trace here (ptrace
/// not permitted): the durability test needs it, as the browser tests need Chromium.
pub fn traced(out: &Path, program: impl AsRef<OsStr>) -> Command {
    let probe = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .output()
        .expect("strace (Debian package strace) must be installed");
    assert!(
        probe.status.success(),
        "strace cannot trace here (is ptrace permitted? in a container it needs \
         CAP_SYS_PTRACE or a seccomp profile allowing ptrace): `strace -f true` failed with \
         {}: {}",
        probe.status,
        String::from_utf8_lossy(&probe.stderr)
    );
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-e", SYSCALLS, "-o"])
        .arg(out)
        .arg("--")
        .arg(program);
    cmd
}

/// What a trace says about directories: each created one and each sync of one, with the
/// line it happened at.
#[derive(Debug, Default)]
pub struct Trace {
    /// Successful `mkdir`/`mkdirat`: the path and the line the call finished on.
    created: Vec<(PathBuf, usize)>,
    /// Successful `fsync`/`fdatasync`: the path its fd was opened on and the line the
    /// call started on.
    synced: Vec<(PathBuf, usize)>,
}

/// One system call, both halves joined.
#[derive(Debug)]
struct Call {
    tid: u32,
    name: String,
    /// Everything between the parentheses.
    args: String,
    /// The number returned; `None` for `?` or when there is none.
    result: Option<i64>,
    started: usize,
    finished: usize,
}

/// An fd table: each open fd's path and the line its open finished on.
type Fds = HashMap<i64, (PathBuf, usize)>;

impl Trace {
    /// Reads the trace file `path` of a process started in `cwd`.
    pub fn read(path: &Path, cwd: &Path) -> Trace {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Trace::parse(&text, cwd)
    }

    /// Parses the text of a trace of a process started in `cwd`.
    pub fn parse(text: &str, cwd: &Path) -> Trace {
        let calls = calls(text);
        let table_of = fd_tables(&calls);
        // Each call takes effect once: an open or close when it returns (the fd is
        // assigned or freed somewhere in between), a sync or mkdir on the fd or path it
        // was given when it started.
        let mut effects: Vec<(usize, &Call)> = calls
            .iter()
            .map(|c| match c.name.as_str() {
                "fsync" | "fdatasync" | "mkdirat" | "mkdir" => (c.started, c),
                _ => (c.finished, c),
            })
            .collect();
        effects.sort_by_key(|(at, _)| *at);

        let mut tables: HashMap<u32, Fds> = HashMap::new();
        let mut trace = Trace::default();
        for (at, call) in effects {
            let table = table_of.get(&call.tid).copied().unwrap_or(call.tid);
            let fds = tables.entry(table).or_default();
            match call.name.as_str() {
                "open" | "openat" => {
                    let at_dir = if call.name == "openat" {
                        dir_fd(&call.args)
                    } else {
                        None
                    };
                    if let (Some(fd), Some(path)) =
                        (call.result.filter(|fd| *fd >= 0), path_arg(&call.args))
                        && let Some(path) = resolve(fds, cwd, at_dir, &path)
                    {
                        fds.insert(fd, (path, at));
                    }
                }
                "close" => {
                    // Another thread may get the fd back before this close is seen to
                    // return: only an open that finished before the close began is ended.
                    if let Some(fd) = int_arg(&call.args)
                        && fds
                            .get(&fd)
                            .is_some_and(|(_, opened)| *opened < call.started)
                    {
                        fds.remove(&fd);
                    }
                }
                "fsync" | "fdatasync" => {
                    if call.result == Some(0)
                        && let Some((path, _)) = int_arg(&call.args).and_then(|fd| fds.get(&fd))
                    {
                        trace.synced.push((path.clone(), at));
                    }
                }
                "mkdir" | "mkdirat" => {
                    let at_dir = if call.name == "mkdirat" {
                        dir_fd(&call.args)
                    } else {
                        None
                    };
                    if call.result == Some(0)
                        && let Some(path) = path_arg(&call.args)
                        && let Some(path) = resolve(fds, cwd, at_dir, &path)
                    {
                        trace.created.push((path, call.finished));
                    }
                }
                "clone" | "clone3" | "fork" | "vfork" => {
                    // A new process (no CLONE_FILES) starts with a copy of its parent's fds.
                    if let Some(child) = call
                        .result
                        .filter(|r| *r > 0 && !call.args.contains("CLONE_FILES"))
                    {
                        let copy = fds.clone();
                        let child = tables.entry(child as u32).or_default();
                        for (fd, open) in copy {
                            child.entry(fd).or_insert(open);
                        }
                    }
                }
                _ => {}
            }
        }
        trace
    }

    /// The directories created at or below `root`, in the order they were created.
    pub fn created_under(&self, root: &Path) -> Vec<&Path> {
        let root = normal(root);
        self.created
            .iter()
            .filter(|(path, _)| path.starts_with(&root))
            .map(|(path, _)| path.as_path())
            .collect()
    }

    /// The directories created at or below `root` whose parent directory was not
    /// successfully fsynced (or fdatasynced) by a call that began after the creation.
    pub fn unsynced_parents(&self, root: &Path) -> Vec<&Path> {
        let root = normal(root);
        self.created
            .iter()
            .filter(|(path, _)| path.starts_with(&root))
            .filter(|(path, made)| {
                let parent = path.parent();
                !self
                    .synced
                    .iter()
                    .any(|(synced, at)| at > made && Some(synced.as_path()) == parent)
            })
            .map(|(path, _)| path.as_path())
            .collect()
    }
}

/// The calls in a trace, halves joined, in the order they finished.
fn calls(text: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut unfinished: HashMap<u32, (usize, String)> = HashMap::new();
    for (line_no, line) in text.lines().enumerate() {
        let Some((tid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(tid) = tid.parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        let (started, whole) = if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            unfinished.insert(tid, (line_no, head.to_string()));
            continue;
        } else if let Some(tail) = rest.strip_prefix("<... ") {
            let Some((_, tail)) = tail.split_once("resumed>") else {
                continue;
            };
            let Some((started, head)) = unfinished.remove(&tid) else {
                continue;
            };
            (started, format!("{head}{tail}"))
        } else {
            (line_no, rest.to_string())
        };
        // `+++ exited …`, `--- SIGTERM …` and the like are not calls.
        let Some((name, args_and_result)) = whole.split_once('(') else {
            continue;
        };
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        // strace pads short calls with spaces before the ` = RESULT`.
        let (args, result) = match args_and_result.rsplit_once(" = ") {
            Some((args, result)) => (
                args,
                result
                    .split_whitespace()
                    .next()
                    .and_then(|r| r.parse().ok()),
            ),
            None => (args_and_result, None),
        };
        let args = args.trim_end();
        let args = args.strip_suffix(')').unwrap_or(args);
        calls.push(Call {
            tid,
            name: name.to_string(),
            args: args.trim().to_string(),
            result,
            started,
            finished: line_no,
        });
    }
    calls
}

/// Which fd table each thread uses: a thread created with `CLONE_FILES` shares its
/// creator's, any other has its own (named by its id). Worked out over the whole trace
/// first, because a new thread's calls can be printed before its creator's `clone`
/// returns.
fn fd_tables(calls: &[Call]) -> HashMap<u32, u32> {
    let mut parent = HashMap::new();
    for call in calls {
        let creates = matches!(call.name.as_str(), "clone" | "clone3" | "fork" | "vfork");
        if let Some(child) = call.result.filter(|r| creates && *r > 0)
            && call.args.contains("CLONE_FILES")
        {
            parent.insert(child as u32, call.tid);
        }
    }
    let root = |mut tid: u32| {
        while let Some(p) = parent.get(&tid) {
            tid = *p;
        }
        tid
    };
    calls.iter().map(|c| (c.tid, root(c.tid))).collect()
}

/// The first argument as an integer (an fd).
fn int_arg(args: &str) -> Option<i64> {
    args.split(',').next()?.trim().parse().ok()
}

/// The directory argument of an `*at` call: `None` for `AT_FDCWD`, else its fd.
fn dir_fd(args: &str) -> Option<i64> {
    int_arg(args)
}

/// The first quoted string argument, strace's C escapes undone.
fn path_arg(args: &str) -> Option<PathBuf> {
    let quoted = &args[args.find('"')? + 1..];
    let mut bytes = Vec::new();
    let mut chars = quoted.bytes().peekable();
    while let Some(b) = chars.next() {
        match b {
            b'"' => {
                use std::os::unix::ffi::OsStringExt;
                return Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)));
            }
            b'\\' => {
                let e = chars.next()?;
                bytes.push(match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'v' => 0x0b,
                    b'f' => 0x0c,
                    b'x' => {
                        let mut v = 0u8;
                        for _ in 0..2 {
                            let d = (*chars.peek()? as char).to_digit(16)?;
                            chars.next();
                            v = v * 16 + d as u8;
                        }
                        v
                    }
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match chars.peek() {
                                Some(d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    chars.next();
                                }
                                _ => break,
                            }
                        }
                        v as u8
                    }
                    other => other,
                });
            }
            _ => bytes.push(b),
        }
    }
    None
}

/// `path` made absolute (against the directory fd `at_dir`, or `cwd`) and normalised;
/// `None` when `at_dir` is not a known open fd.
fn resolve(fds: &Fds, cwd: &Path, at_dir: Option<i64>, path: &Path) -> Option<PathBuf> {
    if path.is_absolute() {
        return Some(normal(path));
    }
    let base = match at_dir {
        None => cwd,
        Some(fd) => &fds.get(&fd)?.0,
    };
    Some(normal(&base.join(path)))
}

/// `path` without `.` components and with `..` applied lexically.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(text: &str) -> Trace {
        Trace::parse(text, Path::new("/cwd"))
    }

    #[test]
    fn a_directory_synced_through_its_parent_after_creation() {
        let t = trace(
            "10 mkdir(\"/d/wal\", 0777)                = 0\n\
             10 openat(AT_FDCWD, \"/d\", O_RDONLY|O_CLOEXEC) = 5\n\
             10 fsync(5)                               = 0\n\
             10 close(5)                               = 0\n\
             10 +++ exited with 0 +++\n",
        );
        assert_eq!(t.created_under(Path::new("/d/wal")), [Path::new("/d/wal")]);
        assert!(t.unsynced_parents(Path::new("/d")).is_empty());
    }

    #[test]
    fn a_sync_before_the_creation_or_of_another_directory_does_not_count() {
        let t = trace(
            "10 openat(AT_FDCWD, \"/d\", O_RDONLY) = 5\n\
             10 fsync(5) = 0\n\
             10 mkdir(\"/d/a\", 0777) = 0\n\
             10 close(5) = 0\n\
             10 openat(AT_FDCWD, \"/d/a\", O_RDONLY) = 5\n\
             10 fsync(5) = 0\n\
             10 mkdir(\"/d/b\", 0777) = -1 EEXIST (File exists)\n",
        );
        assert_eq!(t.unsynced_parents(Path::new("/d")), [Path::new("/d/a")]);
    }

    #[test]
    fn halves_of_interrupted_calls_are_joined_and_threads_share_fds() {
        let t = trace(
            "10 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_THREAD, exit_signal=0} <unfinished ...>\n\
             11 mkdirat(AT_FDCWD, \"rel\", 0777 <unfinished ...>\n\
             10 <... clone3 resumed> => {parent_tid=[11]}, 88) = 11\n\
             11 <... mkdirat resumed>) = 0\n\
             10 openat(AT_FDCWD, \"/cwd\", O_RDONLY|O_CLOEXEC <unfinished ...>\n\
             11 close(7) = 0\n\
             10 <... openat resumed>) = 7\n\
             11 fsync(7 <unfinished ...>\n\
             10 close(7 <unfinished ...>\n\
             11 <... fsync resumed>)                   = 0\n\
             10 <... close resumed>) = 0\n",
        );
        assert_eq!(t.created_under(Path::new("/cwd")), [Path::new("/cwd/rel")]);
        assert!(t.unsynced_parents(Path::new("/cwd")).is_empty());
    }

    #[test]
    fn an_fd_reused_after_a_close_names_the_new_file() {
        let t = trace(
            "10 mkdir(\"/d/a\", 0777) = 0\n\
             10 openat(AT_FDCWD, \"/d\", O_RDONLY) = 5\n\
             10 close(5 <unfinished ...>\n\
             11 openat(AT_FDCWD, \"/elsewhere\", O_RDONLY) = 5\n\
             10 <... close resumed>) = 0\n\
             11 fsync(5) = 0\n",
        );
        assert_eq!(t.unsynced_parents(Path::new("/d")), [Path::new("/d/a")]);
    }

    #[test]
    fn another_process_has_fds_of_its_own() {
        let t = trace(
            "10 mkdir(\"/d/a\", 0777) = 0\n\
             10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 12\n\
             12 openat(AT_FDCWD, \"/elsewhere\", O_RDONLY) = 5\n\
             10 openat(AT_FDCWD, \"/d\", O_RDONLY) = 5\n\
             12 fsync(5) = 0\n",
        );
        assert_eq!(t.unsynced_parents(Path::new("/d")), [Path::new("/d/a")]);
    }

    #[test]
    fn escaped_and_relative_paths() {
        let t = trace(
            "10 openat(AT_FDCWD, \"/d/x\\\"y\\t\", O_RDONLY|O_DIRECTORY) = 3\n\
             10 mkdirat(3, \"./n\\303\\251w\", 0777) = 0\n",
        );
        assert_eq!(
            t.created_under(Path::new("/d")),
            [Path::new("/d/x\"y\t/n\u{e9}w")]
        );
    }
}
