//! The deliveries one dispatcher holds: claimed from the outbox and either waiting for a slot
//! (ready) or being sent (in flight), per destination.
//!
//! Claiming ahead is what keeps the slots busy: a finished delivery's slot goes at once to the
//! next ready delivery of the same or another destination, while the next claim runs in the
//! background, and claims come in large groups (a claim costs about as much for one delivery as
//! for fifty). Fairness stays as before: at most `in_flight_cap` deliveries of one destination
//! are sent at a time, so a slow receiver only ever holds its own slots; destinations with ready
//! deliveries take turns.

use std::collections::{HashMap, VecDeque};
use verity_domain::ids::DestinationId;
use verity_store::DestinationCapacity;

pub(crate) struct Held<T> {
    in_flight_cap: usize,
    hold_cap: usize,
    lanes: HashMap<DestinationId, Lane<T>>,
    /// Destinations with a ready delivery and a free slot, each listed once, in turn order.
    runnable: VecDeque<DestinationId>,
    in_flight: usize,
    ready: usize,
    /// A destination that may have more due deliveries has sent half of what it may hold.
    refill_due: bool,
}

struct Lane<T> {
    ready: VecDeque<T>,
    in_flight: usize,
    runnable: bool,
    /// The last claim gave this destination all the room it had: more may be due.
    more: bool,
}

impl<T> Lane<T> {
    fn held(&self) -> usize {
        self.ready.len() + self.in_flight
    }
}

impl<T> Held<T> {
    /// `in_flight_cap` deliveries of one destination are sent at a time, `hold_cap` of them
    /// (in flight and ready) are held.
    pub fn new(in_flight_cap: usize, hold_cap: usize) -> Self {
        Self {
            in_flight_cap: in_flight_cap.max(1),
            hold_cap: hold_cap.max(in_flight_cap).max(1),
            lanes: HashMap::new(),
            runnable: VecDeque::new(),
            in_flight: 0,
            ready: 0,
            refill_due: false,
        }
    }

    /// Takes in what a claim made with `capacity` (a snapshot of [`Held::capacity`]) returned,
    /// and notes which destinations may have more due: those the claim filled to the brim.
    pub fn accept_claim(
        &mut self,
        capacity: &DestinationCapacity,
        claimed: impl IntoIterator<Item = (DestinationId, T)>,
    ) {
        let mut counts: HashMap<DestinationId, usize> = HashMap::new();
        for (destination, item) in claimed {
            *counts.entry(destination).or_default() += 1;
            self.push(destination, item);
        }
        let half = self.hold_cap / 2;
        for (destination, lane) in &mut self.lanes {
            let before = capacity.busy.get(destination).copied().unwrap_or(0);
            let room = capacity.per_destination.saturating_sub(before);
            if room == 0 {
                // Not asked this time; what was known stands.
                continue;
            }
            lane.more = counts.get(destination).copied().unwrap_or(0) >= room;
            self.refill_due |= lane.more && lane.held() <= half;
        }
    }

    pub fn push(&mut self, destination: DestinationId, item: T) {
        let lane = self.lanes.entry(destination).or_insert_with(|| Lane {
            ready: VecDeque::new(),
            in_flight: 0,
            runnable: false,
            more: false,
        });
        lane.ready.push_back(item);
        self.ready += 1;
        if !lane.runnable && lane.in_flight < self.in_flight_cap {
            lane.runnable = true;
            self.runnable.push_back(destination);
        }
    }

    /// Moves the next ready delivery, taking destinations in turn, to in flight.
    pub fn start_next(&mut self) -> Option<T> {
        let destination = self.runnable.pop_front()?;
        let lane = self.lanes.get_mut(&destination)?;
        let item = lane.ready.pop_front()?;
        self.ready -= 1;
        self.in_flight += 1;
        lane.in_flight += 1;
        lane.runnable = !lane.ready.is_empty() && lane.in_flight < self.in_flight_cap;
        if lane.runnable {
            self.runnable.push_back(destination);
        }
        Some(item)
    }

    /// A delivery of `destination` is no longer in flight.
    pub fn finished(&mut self, destination: DestinationId) {
        let Some(lane) = self.lanes.get_mut(&destination) else {
            return;
        };
        if lane.in_flight == 0 {
            return;
        }
        lane.in_flight -= 1;
        self.in_flight -= 1;
        // Every finish below half asks again (a flag, taken when a claim starts): the claim
        // that answers may arrive after the destination has drained further.
        self.refill_due |= lane.more && lane.held() <= self.hold_cap / 2;
        if lane.held() == 0 {
            self.lanes.remove(&destination);
        } else if !lane.runnable && !lane.ready.is_empty() {
            lane.runnable = true;
            self.runnable.push_back(destination);
        }
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub fn held(&self) -> usize {
        self.in_flight + self.ready
    }

    /// Whether a destination that may have more due has drained to half of what it may hold
    /// since the last call.
    pub fn take_refill_due(&mut self) -> bool {
        std::mem::take(&mut self.refill_due)
    }

    /// How many more deliveries each destination may take in a claim.
    pub fn capacity(&self) -> DestinationCapacity {
        DestinationCapacity {
            per_destination: self.hold_cap,
            busy: self
                .lanes
                .iter()
                .map(|(destination, lane)| (*destination, lane.held()))
                .collect(),
        }
    }

    /// Every delivery not yet started (for giving them back on shutdown).
    pub fn drain_ready(&mut self) -> Vec<T> {
        self.runnable.clear();
        self.ready = 0;
        let mut items = Vec::new();
        self.lanes.retain(|_, lane| {
            items.extend(lane.ready.drain(..));
            lane.runnable = false;
            lane.in_flight > 0
        });
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(n: u128) -> DestinationId {
        DestinationId::parse(&uuid::Uuid::from_u128(n).to_string()).unwrap()
    }

    #[test]
    fn one_destination_sends_at_most_its_cap_and_refills_as_slots_free() {
        let a = destination(1);
        let mut held = Held::new(2, 8);
        for n in 0..5 {
            held.push(a, n);
        }
        assert_eq!(held.start_next(), Some(0));
        assert_eq!(held.start_next(), Some(1));
        assert_eq!(held.start_next(), None, "the cap of two is reached");
        held.finished(a);
        assert_eq!(held.start_next(), Some(2));
        assert_eq!((held.in_flight(), held.held()), (2, 4));
    }

    #[test]
    fn destinations_take_turns_and_a_slow_one_keeps_only_its_own_slots() {
        let (slow, fast) = (destination(1), destination(2));
        let mut held = Held::new(2, 8);
        for n in 0..4 {
            held.push(slow, ("slow", n));
        }
        for n in 0..4 {
            held.push(fast, ("fast", n));
        }
        let order: Vec<_> = std::iter::from_fn(|| held.start_next()).collect();
        assert_eq!(
            order,
            [("slow", 0), ("fast", 0), ("slow", 1), ("fast", 1)],
            "alternating, two each"
        );
        // The slow receiver never answers; the fast one's slots keep turning over.
        for n in 2..4 {
            held.finished(fast);
            assert_eq!(held.start_next(), Some(("fast", n)));
        }
        held.finished(fast);
        held.finished(fast);
        assert_eq!(held.start_next(), None);
        assert_eq!(held.capacity().busy.get(&fast), None, "drained lanes go");
        assert_eq!(held.capacity().busy[&slow], 4);
    }

    #[test]
    fn refill_is_due_when_a_destination_filled_to_the_brim_drains_to_half() {
        let (a, b) = (destination(1), destination(2));
        let mut held = Held::new(4, 8);
        let capacity = held.capacity();
        // `a` got all the room it had (8), `b` less: only `a` may have more due.
        held.accept_claim(
            &capacity,
            (0..8).map(|n| (a, n)).chain((0..3).map(|n| (b, 100 + n))),
        );
        while held.start_next().is_some() {}
        for _ in 0..3 {
            held.finished(b);
        }
        assert!(
            !held.take_refill_due(),
            "b is drained, but had nothing more"
        );
        for expected in [false, false, false, true] {
            held.finished(a);
            held.start_next();
            assert_eq!(held.take_refill_due(), expected);
        }
        held.finished(a);
        assert!(
            held.take_refill_due(),
            "asked again while the claim is outstanding"
        );
        // The next claim finds nothing more for `a`: no more asking.
        let capacity = held.capacity();
        held.accept_claim(&capacity, std::iter::empty());
        held.finished(a);
        assert!(!held.take_refill_due());
    }

    #[test]
    fn a_claim_answering_after_the_drain_still_asks_for_more() {
        let a = destination(1);
        let mut held = Held::new(2, 8);
        let capacity = held.capacity();
        // Claimed while empty; by the time it lands nothing else happened: 8 of 8 → more.
        held.accept_claim(&capacity, (0..8).map(|n| (a, n)));
        let capacity = held.capacity(); // claim started at 8 held: no room, not asked
        while held.start_next().is_some() {}
        for _ in 0..2 {
            held.finished(a);
            held.start_next();
        }
        held.accept_claim(&capacity, std::iter::empty());
        assert!(!held.take_refill_due(), "6 of 8 held is above half");
        for _ in 0..6 {
            held.finished(a);
            held.start_next();
        }
        assert!(held.take_refill_due());
    }

    #[test]
    fn shutdown_gives_back_only_what_has_not_started() {
        let (a, b) = (destination(1), destination(2));
        let mut held = Held::new(1, 4);
        held.push(a, 1);
        held.push(a, 2);
        held.push(b, 3);
        assert_eq!(held.start_next(), Some(1));
        let mut back = held.drain_ready();
        back.sort();
        assert_eq!(back, [2, 3]);
        assert_eq!((held.in_flight(), held.held()), (1, 1));
        assert_eq!(held.start_next(), None);
        held.finished(a);
        assert_eq!(held.held(), 0);
    }
}
