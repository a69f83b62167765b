//! What the sandbox's processes tell the runner through the status
//! descriptor: one line per message, plain text. The program never holds
//! this descriptor (it is closed when the program is executed), so it
//! cannot forge its own ending.

use std::fmt;

/// One message on the status descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The namespaces or the mount view could not be set up; the program
    /// never started. The runner falls back to process-group containment.
    SetupFailed(String),
    /// The program could not be executed (errno).
    ExecFailed(i32),
    /// The program exited with this code.
    Exited(i32),
    /// A signal ended the program.
    Signaled(i32),
}

impl Message {
    /// The message as one line, newline included.
    pub fn encode(&self) -> String {
        match self {
            // A reason never spans lines.
            Message::SetupFailed(reason) => format!("setup-failed {}\n", reason.replace('\n', " ")),
            Message::ExecFailed(errno) => format!("exec-failed {errno}\n"),
            Message::Exited(code) => format!("exited {code}\n"),
            Message::Signaled(signal) => format!("signaled {signal}\n"),
        }
    }

    /// Parses one line; `None` for anything malformed.
    pub fn parse(line: &str) -> Option<Message> {
        let (word, rest) = line.split_once(' ')?;
        let number = || rest.trim().parse::<i32>().ok();
        match word {
            "setup-failed" => Some(Message::SetupFailed(rest.to_owned())),
            "exec-failed" => number().map(Message::ExecFailed),
            "exited" => number().map(Message::Exited),
            "signaled" => number().map(Message::Signaled),
            _ => None,
        }
    }

    /// Every message in `text`, in order.
    pub fn parse_all(text: &str) -> Vec<Message> {
        text.lines().filter_map(Message::parse).collect()
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            Message::SetupFailed("mount /proc: EPERM".into()),
            Message::ExecFailed(2),
            Message::Exited(0),
            Message::Exited(-1),
            Message::Signaled(11),
        ] {
            assert_eq!(Message::parse(m.encode().trim_end()), Some(m));
        }
        let text = "exited 3\ngarbage\nsignaled 9\n";
        assert_eq!(
            Message::parse_all(text),
            [Message::Exited(3), Message::Signaled(9)]
        );
        assert_eq!(
            Message::SetupFailed("a\nb".into()).encode(),
            "setup-failed a b\n"
        );
    }
}
