//! [`parse_events`]: an SSE body read into events by the WHATWG rules, as a browser's
//! `EventSource` reads it.

/// One server-sent event as a browser's `EventSource` parser sees it.
///
/// ```
/// let events = dstar::test::parse_events(b"event: datastar-patch-signals\ndata: signals {}\n\n");
/// assert_eq!(events[0].event, "datastar-patch-signals");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub event: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
    /// The `retry:` field in milliseconds, if any.
    pub retry: Option<u64>,
    /// Every `data:` line in order.
    pub data: Vec<String>,
}

impl SseEvent {
    /// The values of the Datastar data lines starting with `key ` (e.g. `"elements"`).
    ///
    /// ```
    /// let events = dstar::test::parse_events(b"event: e\ndata: elements <a>\ndata: elements </a>\n\n");
    /// assert_eq!(events[0].lines("elements"), ["<a>", "</a>"]);
    /// ```
    pub fn lines(&self, key: &str) -> Vec<&str> {
        self.data
            .iter()
            .filter_map(|line| {
                let (k, v) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                (k == key).then_some(v)
            })
            .collect()
    }

    /// The lines of `key` joined with `\n`, as the Datastar client joins them; `None` if absent.
    ///
    /// ```
    /// let events = dstar::test::parse_events(b"event: e\ndata: elements <a>\ndata: elements </a>\n\n");
    /// assert_eq!(events[0].value("elements").as_deref(), Some("<a>\n</a>"));
    /// assert_eq!(events[0].value("selector"), None);
    /// ```
    pub fn value(&self, key: &str) -> Option<String> {
        let lines = self.lines(key);
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// Parses an SSE body by the WHATWG rules: lines end in CRLF, LF or a lone CR; a blank line ends
/// an event; `:` starts a comment; one space after the colon is dropped; `id` with NUL is ignored;
/// `retry` must be all digits. Events without any field are skipped.
///
/// ```
/// let body = b": keep-alive\r\n\r\nevent: datastar-patch-signals\rid: 1\ndata: signals {}\n\n";
/// let events = dstar::test::parse_events(body);
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].event, "datastar-patch-signals");
/// assert_eq!(events[0].id.as_deref(), Some("1"));
/// assert_eq!(events[0].data, ["signals {}"]);
/// ```
pub fn parse_events(body: &[u8]) -> Vec<SseEvent> {
    let text = String::from_utf8_lossy(body);
    let mut events = Vec::new();
    let mut current = SseEvent::default();
    let mut touched = false;
    let mut rest = text.as_ref();
    loop {
        let (line, next) = match rest.find(['\r', '\n']) {
            Some(i) => {
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..i], Some(&rest[i + skip..]))
            }
            None => (rest, None),
        };
        // A final line without a line end is not a complete line and never dispatches.
        let Some(next) = next else { break };
        rest = next;
        if line.is_empty() {
            if touched {
                if current.event.is_empty() {
                    current.event = "message".into();
                }
                events.push(std::mem::take(&mut current));
                touched = false;
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => {
                current.event = value.to_owned();
                touched = true;
            }
            "data" => {
                current.data.push(value.to_owned());
                touched = true;
            }
            "id" if !value.contains('\0') => {
                current.id = Some(value.to_owned());
                touched = true;
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                current.retry = value.parse().ok();
                touched = true;
            }
            _ => {}
        }
    }
    events
}
