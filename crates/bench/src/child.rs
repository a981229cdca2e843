//! One command run as a child process and measured from outside: its wall time and the
//! peak resident set size the kernel accounted to it (`wait4`'s `ru_maxrss`, which covers
//! the child and the descendants it waited for), under a wall-clock cap and a memory
//! guard. Measuring the child, not this process, keeps each implementation's memory its
//! own; the cap and guard let a reference tool that runs for hours or grows past the
//! machine be stopped and reported as such, without taking the shared machine down.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// When to stop a child.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub wall: Duration,
    /// Resident memory of the child's whole process group.
    pub rss_bytes: u64,
}

/// How a measured child ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Finished,
    /// Exited non-zero or by a signal: what it said last.
    Failed(String),
    /// Stopped at the wall-clock cap.
    TimedOut,
    /// Stopped by the memory guard.
    OverMemory,
}

#[derive(Debug, Clone)]
pub struct Measured {
    pub wall_s: f64,
    pub peak_rss_bytes: u64,
    pub outcome: Outcome,
    pub stdout: String,
}

impl Measured {
    pub fn finished(&self) -> bool {
        self.outcome == Outcome::Finished
    }
}

/// How often the caps are checked; the memory guard acts within ten intervals.
const POLL: Duration = Duration::from_millis(20);
const MEMORY_CHECK_EVERY: u32 = 10;

/// Runs `command` in a process group of its own and measures it.
pub fn measure(command: &mut Command, limits: &Limits) -> std::io::Result<Measured> {
    let mut stdout = tempfile::tempfile()?;
    let mut stderr = tempfile::tempfile()?;
    command
        .stdin(Stdio::null())
        .stdout(stdout.try_clone()?)
        .stderr(stderr.try_clone()?)
        .process_group(0);
    let start = Instant::now();
    let child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    // A thread blocks in wait4 so that the wall time ends when the child does; this
    // thread watches the caps meanwhile.
    let (done, reaped) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(reap(pid)));
    let mut stopped = None;
    let mut polls = 0u32;
    let (status, peak_rss_bytes) = loop {
        match reaped.recv_timeout(POLL) {
            Ok(result) => break result?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(std::io::Error::other(
                    "the wait4 thread ended without a result",
                ))
            }
        }
        polls += 1;
        if stopped.is_none() {
            if start.elapsed() > limits.wall {
                stopped = Some(Outcome::TimedOut);
            } else if polls.is_multiple_of(MEMORY_CHECK_EVERY)
                && group_rss_bytes(pid) > limits.rss_bytes
            {
                stopped = Some(Outcome::OverMemory);
            }
            if stopped.is_some() {
                kill_group(pid);
            }
        }
    };
    let wall_s = start.elapsed().as_secs_f64();
    // Whatever the child left behind in its group (worker processes) goes with it.
    kill_group(pid);
    let outcome = match stopped {
        Some(outcome) => outcome,
        None if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 => Outcome::Finished,
        None => {
            let how = if libc::WIFEXITED(status) {
                format!("exit status {}", libc::WEXITSTATUS(status))
            } else {
                format!("signal {}", libc::WTERMSIG(status))
            };
            Outcome::Failed(format!("{how}: {}", last_line(&read_all(&mut stderr)?)))
        }
    };
    Ok(Measured {
        wall_s,
        peak_rss_bytes,
        outcome,
        stdout: read_all(&mut stdout)?,
    })
}

fn read_all(file: &mut File) -> std::io::Result<String> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The last thing a failing program said: its error, after any traceback.
fn last_line(text: &str) -> String {
    const MAX_CHARS: usize = 300;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    line.trim().chars().take(MAX_CHARS).collect()
}

/// `wait4(pid)`, blocking: the exit status and the peak RSS in bytes.
// The one place this crate needs `unsafe`: std's `Child::wait` drops the rusage that
// wait4 returns, and the kernel's maxrss of the reaped child is the figure we want.
#[allow(unsafe_code)]
fn reap(pid: libc::pid_t) -> std::io::Result<(i32, u64)> {
    loop {
        let mut status = 0;
        // SAFETY: rusage is plain integers, for which all-zero is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers refer to live locals for the duration of the call.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            // ru_maxrss is in KiB on Linux.
            return Ok((status, usage.ru_maxrss.max(0) as u64 * 1024));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[allow(unsafe_code)]
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: killpg takes plain integers; a group that no longer exists gives ESRCH,
    // which is what we want to ignore.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Resident memory of every process in group `pgid` (the child and the workers it
/// forked), from /proc.
fn group_rss_bytes(pgid: libc::pid_t) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // Fields after the parenthesised command name: state, ppid, pgrp, ...
            let after = stat.rsplit_once(')')?.1;
            let pgrp: libc::pid_t = after.split_whitespace().nth(2)?.parse().ok()?;
            if pgrp != pgid {
                return None;
            }
            let status = std::fs::read_to_string(e.path().join("status")).ok()?;
            let kib: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some(kib * 1024)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENEROUS: Limits = Limits {
        wall: Duration::from_secs(30),
        rss_bytes: 8 << 30,
    };

    #[test]
    fn the_peak_memory_is_the_childs_own() {
        // A child that writes 200 MB reports at least that; this test process is far
        // smaller, so the figure cannot be ours.
        let script = "x = b\"x\" * (200 * 1000 * 1000); print(len(x))";
        let m = measure(Command::new("python3").args(["-c", script]), &GENEROUS).unwrap();
        assert_eq!(m.outcome, Outcome::Finished);
        assert_eq!(m.stdout.trim(), "200000000");
        assert!(m.peak_rss_bytes > 200_000_000, "{}", m.peak_rss_bytes);
        assert!(m.peak_rss_bytes < 400_000_000, "{}", m.peak_rss_bytes);
    }

    #[test]
    fn a_child_past_the_wall_clock_cap_is_stopped_and_says_so() {
        let limits = Limits {
            wall: Duration::from_millis(300),
            ..GENEROUS
        };
        let m = measure(Command::new("sleep").arg("20"), &limits).unwrap();
        assert_eq!(m.outcome, Outcome::TimedOut);
        assert!(m.wall_s < 5.0, "{}", m.wall_s);
    }

    #[test]
    fn a_child_past_the_memory_guard_is_stopped_and_says_so() {
        let limits = Limits {
            rss_bytes: 50_000_000,
            ..GENEROUS
        };
        let script = "import time; x = b\"x\" * (300 * 1000 * 1000); time.sleep(20)";
        let m = measure(Command::new("python3").args(["-c", script]), &limits).unwrap();
        assert_eq!(m.outcome, Outcome::OverMemory);
    }

    #[test]
    fn a_failing_child_is_reported_with_what_it_said() {
        let script = "import sys; sys.exit('no such image')";
        let m = measure(Command::new("python3").args(["-c", script]), &GENEROUS).unwrap();
        match m.outcome {
            Outcome::Failed(why) => assert!(why.contains("no such image"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
