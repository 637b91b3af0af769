//! Sends the process's stdout to /dev/null while measuring: the handlers print
//! CloudWatch EMF lines (a few per batch), which would flood the terminal.
//! Lambda pays for those writes too (to a pipe); /dev/null is cheaper, by a
//! handful of syscalls per batch.

use std::io::Write;

pub struct QuietStdout {
    saved: libc::c_int,
}

impl QuietStdout {
    pub fn new() -> Option<QuietStdout> {
        let _ = std::io::stdout().flush();
        // SAFETY: plain fd duplication on descriptors this process owns;
        // every return value is checked and the original restored on drop.
        unsafe {
            let saved = libc::dup(1);
            if saved < 0 {
                return None;
            }
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null < 0 {
                libc::close(saved);
                return None;
            }
            let ok = libc::dup2(null, 1) >= 0;
            libc::close(null);
            if !ok {
                libc::close(saved);
                return None;
            }
            Some(QuietStdout { saved })
        }
    }
}

impl Drop for QuietStdout {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: restores the descriptor saved in `new`.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}
