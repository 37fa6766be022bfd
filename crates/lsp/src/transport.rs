//! JSON-RPC 2.0 messages framed as the Language Server Protocol frames them
//! (`Content-Length: N` headers, a blank line, N bytes of JSON), read so that a malformed
//! message is reported, never fatal.

use std::io::{BufRead, Write};

use serde_json::Value;

/// What reading the next message gave.
pub enum Incoming {
    Message(Value),
    /// The bytes were no JSON-RPC message; the error to answer with (`id` null).
    Malformed(String),
    /// The client closed its end.
    Closed,
}

/// Reads one framed message.
pub fn read(input: &mut impl BufRead) -> Incoming {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => return Incoming::Closed,
            Ok(_) => {}
            Err(err) => return Incoming::Malformed(format!("unreadable header: {err}")),
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_some() {
                break;
            }
            // Blank lines between messages are tolerated.
            continue;
        }
        if let Some(value) = header
            .split_once(':')
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .map(|(_, value)| value.trim())
        {
            match value.parse::<usize>() {
                Ok(n) if n <= 64 << 20 => length = Some(n),
                _ => return Incoming::Malformed(format!("bad Content-Length `{value}`")),
            }
        }
    }
    let mut body = vec![0u8; length.unwrap_or(0)];
    if let Err(err) = input.read_exact(&mut body) {
        return match err.kind() {
            std::io::ErrorKind::UnexpectedEof => Incoming::Closed,
            _ => Incoming::Malformed(format!("unreadable body: {err}")),
        };
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value) if value.is_object() => Incoming::Message(value),
        Ok(_) => Incoming::Malformed("a message must be a JSON object".into()),
        Err(err) => Incoming::Malformed(format!("not JSON: {err}")),
    }
}

/// Writes one framed message.
pub fn write(output: &mut impl Write, message: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(message)?;
    write!(output, "Content-Length: {}\r\n\r\n", body.len())?;
    output.write_all(&body)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn reads_messages_and_survives_malformed_ones() {
        let stream = format!(
            "{}{}{}Content-Length: x\r\n\r\n",
            framed(r#"{"jsonrpc":"2.0","method":"a"}"#),
            framed("{not json"),
            framed(r#"{"jsonrpc":"2.0","method":"b"}"#),
        );
        let mut input = std::io::Cursor::new(stream.into_bytes());
        let mut seen = Vec::new();
        loop {
            match read(&mut input) {
                Incoming::Message(m) => seen.push(m["method"].as_str().unwrap().to_string()),
                Incoming::Malformed(why) => seen.push(format!("malformed: {}", &why[..7])),
                Incoming::Closed => break,
            }
        }
        assert_eq!(seen, ["a", "malformed: not JSO", "b", "malformed: bad Con"]);
    }

    #[test]
    fn writes_what_it_reads() {
        let message = serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": null});
        let mut bytes = Vec::new();
        write(&mut bytes, &message).unwrap();
        let Incoming::Message(back) = read(&mut std::io::Cursor::new(bytes)) else {
            panic!("not read back");
        };
        assert_eq!(back, message);
    }
}
