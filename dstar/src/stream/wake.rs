//! What the page stream loop waits for besides its source: the liveness check (a beat of its
//! clock), a takeover by a newer stream of the tab, and shutdown.

use super::*;
use crate::sse::clock::Clock;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// What the loop woke up for.
#[derive(Debug)]
pub(crate) enum Next<M> {
    Message(M),
    Idle,
    TakenOver,
    Shutdown,
    SourceClosed,
    Missed,
}

pin_project_lite::pin_project! {
    /// The loop's long-lived state besides its source: the liveness clock's beat of its last write.
    ///
    /// Waiting costs no lock per wake-up beyond the source's own: shutdown is a process-wide flag,
    /// a liveness check is a new beat of the stream's clock (the response body's seat at the
    /// clock wakes the task for both, see [`crate::sse::clock`]) and a takeover is a flag on the
    /// [`Claim`], so thousands of streams woken by one broadcast do not each register with a
    /// shared channel again, and no stream holds a timer of its own. Run it inside [`run`]'s body,
    /// which provides the wake-ups.
    pub(crate) struct StreamLoop {
        clock: &'static Clock,
        // the clock's beats when the last write went out (or the stream opened): a whole period
        // without a write lies between the next beat and the one after
        written: u64,
        // messages handed out since the claim was last read
        unchecked: u8,
        // the waker the claim holds: registered again only when the loop runs with another one
        // (the response body always drives it with the same), so a wake-up costs the claim one
        // atomic load, not a register
        claim_waker: Option<std::task::Waker>,
    }
}

impl StreamLoop {
    pub(crate) fn new(clock: &'static Clock) -> Self {
        StreamLoop {
            clock,
            written: clock.beats(),
            unchecked: 0,
            claim_waker: None,
        }
    }

    /// Records that a write went out: it checked the connection as the liveness check would, so
    /// the next check waits for a whole period without one. A message that wrote nothing (not
    /// for this page) does not count: a stream fed only those still checks its client.
    pub(crate) fn wrote(self: Pin<&mut Self>) {
        let this = self.project();
        *this.written = this.clock.beats();
    }

    /// Waits for the next thing the loop must handle, in this order: shutdown, a message from
    /// `source`, a takeover, the liveness check. While messages flow, the takeover is read every
    /// 16 messages (so an old stream may send a few more to the tab it lost); when none is
    /// waiting, at once. The check comes at a beat of the clock after a whole period without a
    /// write ([`wrote`](StreamLoop::wrote); so between one and two periods after the last one).
    /// Pass the same `claim` on every call: the waker it holds is registered again only when the
    /// loop's waker changes.
    ///
    /// The source is borrowed, not owned, so the loop's future holds it once (a future keeps
    /// what it captures apart from its locals, so one moved in here would be held twice, per open
    /// stream).
    pub(crate) fn next<'a, S: Source>(
        self: Pin<&'a mut Self>,
        source: &'a mut S,
        claim: Option<&'a Claim>,
    ) -> impl Future<Output = Next<S::Message>> + Send + 'a {
        Waiting {
            state: self,
            message: source.recv_delivery(),
            claim,
        }
    }
}

pin_project_lite::pin_project! {
    /// [`StreamLoop::next`]'s future: the source's wait and what the loop checks around it, with
    /// nothing held twice.
    struct Waiting<'a, R> {
        state: Pin<&'a mut StreamLoop>,
        #[pin]
        message: R,
        claim: Option<&'a Claim>,
    }
}

impl<M, R: Future<Output = Delivery<M>>> Future for Waiting<'_, R> {
    type Output = Next<M>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Next<M>> {
        let this = self.project();
        let claim = *this.claim;
        let state = this.state.as_mut().project();
        if crate::sse::lifecycle::is_shutting_down() {
            return Poll::Ready(Next::Shutdown);
        }
        if let Poll::Ready(delivery) = this.message.poll(cx) {
            let m = match delivery {
                Delivery::Message(m) => m,
                Delivery::Missed => return Poll::Ready(Next::Missed),
                Delivery::Closed => return Poll::Ready(Next::SourceClosed),
            };
            // a broadcast wakes thousands of streams: the claim (a cold cache line of its own per
            // stream) is read while messages flow only every so often
            *state.unchecked += 1;
            if *state.unchecked >= CLAIM_CHECK_EVERY {
                *state.unchecked = 0;
                if claim.is_some_and(Claim::is_taken_over) {
                    return Poll::Ready(Next::TakenOver);
                }
            }
            return Poll::Ready(Next::Message(m));
        }
        // nothing to send: the claim (woken by a takeover), then the liveness check
        if let Some(claim) = claim {
            *state.unchecked = 0;
            if claim.is_taken_over() {
                return Poll::Ready(Next::TakenOver);
            }
            if !state
                .claim_waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                if claim.poll_taken_over(cx).is_ready() {
                    return Poll::Ready(Next::TakenOver);
                }
                *state.claim_waker = Some(cx.waker().clone());
            }
        }
        // a whole period between two beats went by without a write: check the client, and again
        // at each beat while nothing is written
        let beat = state.clock.beats();
        if beat >= *state.written + 2 {
            *state.written = beat - 1;
            return Poll::Ready(Next::Idle);
        }
        Poll::Pending
    }
}

/// While messages keep a stream busy, it reads its claim once per this many messages (and
/// whenever it waits).
const CLAIM_CHECK_EVERY: u8 = 16;

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls the loop's wait once: what it would hand the loop now, if anything.
    fn poll_once(
        events: Pin<&mut StreamLoop>,
        source: &mut tokio::sync::mpsc::Receiver<()>,
    ) -> Option<&'static str> {
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let wait = std::pin::pin!(events.next(source, None));
        match wait.poll(&mut cx) {
            Poll::Ready(Next::Idle) => Some("idle"),
            Poll::Ready(other) => panic!("unexpected {other:?}"),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_check_follows_a_whole_period_without_a_write_then_one_per_period() {
        let clock = crate::sse::clock::by_hand(Duration::from_secs(30));
        let (_tx, mut source) = tokio::sync::mpsc::channel::<()>(1);
        let events = StreamLoop::new(clock);
        let mut events = std::pin::pin!(events);
        // opened between two beats: the first beat ends a part of a period, not a whole one
        clock.beat_now();
        assert_eq!(poll_once(events.as_mut(), &mut source), None);
        clock.beat_now();
        assert_eq!(poll_once(events.as_mut(), &mut source), Some("idle"));
        // the check was a write: the next one a period later, while nothing else is written
        assert_eq!(poll_once(events.as_mut(), &mut source), None);
        clock.beat_now();
        assert_eq!(poll_once(events.as_mut(), &mut source), Some("idle"));
        // a write just before a beat: that beat finds it, the next one checks
        events.as_mut().wrote();
        clock.beat_now();
        assert_eq!(poll_once(events.as_mut(), &mut source), None);
        clock.beat_now();
        assert_eq!(poll_once(events.as_mut(), &mut source), Some("idle"));
    }
}
