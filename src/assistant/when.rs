//! Time expressions in an utterance → an absolute time in the user's time zone: "at 5 pm", "at
//! five", "in twenty minutes", "tomorrow morning", "on Friday at 3:30 pm", "next Monday at noon",
//! "half past six", "quarter to eight", "on March 10 at 11 am", "in a week".
//!
//! Written here rather than taken from a crate: the Rust parsers checked (temps, date_time_parser,
//! natural-date-parser, whichtime) parse a whole string that *is* a date, while a command holds
//! one inside other words ("remind me to call Ana at 5"), whose place Sotto needs to cut it out of
//! the reminder's text; none reads "half past six", "quarter to eight" or spelled-out hours.
//!
//! Readings, where speech leaves a choice: a time already past today is tomorrow's; an hour
//! without am/pm and without a day is its next occurrence ("at 5" at 08:00 is 17:00, at 03:00 is
//! 05:00); with a day, hours 1–6 are afternoon and 7–11 morning ("tomorrow at 9" is 09:00,
//! "Friday at 5" 17:00); a day without a time is at 09:00 ("tonight" 20:00, "evening" 18:00); a
//! weekday is the coming one, never today ("next Monday" too); a date is its next occurrence.

use jiff::ZonedDateTime;
use jiff::civil::{Date, DateTime, Time, Weekday};

use super::words::{Word, number, ordinal};

/// A time expression found in an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The time it names, in `now`'s time zone.
    pub due: ZonedDateTime,
    /// The words it spans: `words[first..end]`.
    pub first: usize,
    /// End (exclusive).
    pub end: usize,
}

/// The first time expression in `words`, resolved against `now`.
pub fn find(words: &[Word], now: &ZonedDateTime) -> Option<Found> {
    let p = Parser { w: words };
    let mut parts: Vec<(Part, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match p.part(i) {
            Some((part, next)) => {
                parts.push((part, i, next));
                i = next;
            }
            None => i += 1,
        }
    }
    // Parts next to each other (or joined by "and"/"at"/"on") name one time: "tomorrow at 9".
    let mut groups: Vec<Vec<(Part, usize, usize)>> = Vec::new();
    for part in parts {
        let joins = groups.last().and_then(|g| g.last()).is_some_and(|(_, _, end)| p.joins(*end, part.1));
        match groups.last_mut() {
            Some(g) if joins => g.push(part),
            _ => groups.push(vec![part]),
        }
    }
    groups.into_iter().find_map(|g| {
        let (first, end) = (g[0].1, g[g.len() - 1].2);
        resolve(g.into_iter().map(|(p, _, _)| p).collect(), now).map(|due| Found { due, first, end })
    })
}

/// Where a time expression that starts at `words[i]` ends ("in ten minutes, remind me…").
pub fn leading(words: &[Word], i: usize) -> Option<usize> {
    let p = Parser { w: words };
    let (_, mut end) = p.part(i)?;
    while let Some((_, n)) = [end, end + 1].into_iter().find_map(|s| p.part(s).filter(|_| p.joins(end, s))) {
        end = n;
    }
    Some(end)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Meridiem {
    Am,
    Pm,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PartOfDay {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl PartOfDay {
    fn default_hour(self) -> i8 {
        match self {
            PartOfDay::Morning => 9,
            PartOfDay::Afternoon => 15,
            PartOfDay::Evening => 18,
            PartOfDay::Night => 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Clock {
    hour: u32,
    minute: u32,
    meridiem: Option<Meridiem>,
    /// 24-hour, "noon", "midnight", or hour 0/13–23: no am/pm to choose.
    exact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Day {
    /// Days from today (today 0, tomorrow 1).
    Offset(i64),
    Weekday(Weekday),
    Date {
        month: i8,
        day: i8,
    },
    Nth(i8),
}

/// A span of time from now, by calendar units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct After {
    months: i64,
    days: i64,
    seconds: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    After(After),
    Day(Day, Option<PartOfDay>),
    Clock(Clock),
    PartOfDay(PartOfDay),
}

struct Parser<'a> {
    w: &'a [Word],
}

impl Parser<'_> {
    fn word(&self, i: usize) -> Option<&str> {
        self.w.get(i).map(|w| w.norm.as_str())
    }

    fn is(&self, i: usize, any: &[&str]) -> bool {
        self.word(i).is_some_and(|w| any.contains(&w))
    }

    /// Whether a part starting at `start` continues one that ended at `end`.
    fn joins(&self, end: usize, start: usize) -> bool {
        start == end || (start == end + 1 && self.is(end, &["and", "at", "on", "by"]))
    }

    fn part(&self, i: usize) -> Option<(Part, usize)> {
        if let Some((a, n)) = self.after(i) {
            return Some((Part::After(a), n));
        }
        if let Some((d, pod, n)) = self.day(i) {
            return Some((Part::Day(d, pod), n));
        }
        if let Some((c, n)) = self.clock(i) {
            return Some((Part::Clock(c), n));
        }
        self.part_of_day(i).map(|(p, n)| (Part::PartOfDay(p), n))
    }

    /// "in twenty minutes", "in an hour and a half", "in a week", "2 hours from now".
    fn after(&self, i: usize) -> Option<(After, usize)> {
        if self.is(i, &["in", "within"]) {
            return self.amounts(i + 1);
        }
        let (a, n) = self.amounts(i)?;
        if self.is(n, &["from"]) && self.is(n + 1, &["now"]) {
            return Some((a, n + 2));
        }
        self.is(n, &["later"]).then_some((a, n + 1))
    }

    /// One or more amounts joined by "and": "1 hour and 30 minutes".
    fn amounts(&self, i: usize) -> Option<(After, usize)> {
        let (mut total, mut n) = self.amount(i)?;
        while self.is(n, &["and"]) {
            let Some((more, m)) = self.amount(n + 1) else { break };
            total.months += more.months;
            total.days += more.days;
            total.seconds += more.seconds;
            n = m;
        }
        Some((total, n))
    }

    /// "twenty minutes", "a week", "half an hour", "two and a half hours", "a couple of days".
    fn amount(&self, i: usize) -> Option<(After, usize)> {
        let (mut qty, mut j) = match self.word(i)? {
            "half" if self.is(i + 1, &["a", "an"]) => (0.5, i + 2),
            "a" | "an" if self.is(i + 1, &["couple"]) && self.is(i + 2, &["of"]) => (2.0, i + 3),
            "a" if self.is(i + 1, &["few"]) => (3.0, i + 2),
            "a" | "an" => (1.0, i + 1),
            w => (number(w)? as f64, i + 1),
        };
        let half = |j: usize| self.is(j, &["and"]) && self.is(j + 1, &["a"]) && self.is(j + 2, &["half"]);
        if half(j) {
            qty += 0.5;
            j += 3;
        }
        let unit = self.word(j)?;
        let unit = unit.strip_suffix('s').unwrap_or(unit);
        j += 1;
        if half(j) {
            qty += 0.5;
            j += 3;
        }
        let seconds = |per: f64| After { seconds: (qty * per).round() as i64, ..After::default() };
        let after = match unit {
            "second" | "sec" => seconds(1.0),
            "minute" | "min" => seconds(60.0),
            "hour" | "hr" => seconds(3600.0),
            "day" if qty.fract() == 0.0 => After { days: qty as i64, ..After::default() },
            "day" => seconds(86_400.0),
            "week" => After { days: (qty * 7.0).round() as i64, ..After::default() },
            "month" if qty.fract() == 0.0 => After { months: qty as i64, ..After::default() },
            _ => return None,
        };
        Some((after, j))
    }

    /// "today", "tonight", "tomorrow morning", "on Friday", "next Monday", "on March 10",
    /// "the 3rd of May", "next week", "this weekend".
    fn day(&self, i: usize) -> Option<(Day, Option<PartOfDay>, usize)> {
        let mut j = i;
        if self.is(j, &["on", "this", "next", "coming"]) {
            j += 1;
            if self.is(j, &["coming"]) {
                j += 1;
            }
        }
        let prefixed = j > i;
        let (day, mut n) = match self.word(j)? {
            "today" if !prefixed => (Day::Offset(0), j + 1),
            "tonight" if !prefixed => return Some((Day::Offset(0), Some(PartOfDay::Night), j + 1)),
            "tomorrow" if !prefixed => (Day::Offset(1), j + 1),
            "the" | "day"
                if !prefixed && {
                    let k = j + usize::from(self.is(j, &["the"]));
                    self.is(k, &["day"]) && self.is(k + 1, &["after"]) && self.is(k + 2, &["tomorrow"])
                } =>
            {
                (Day::Offset(2), j + 3 + usize::from(self.is(j, &["the"])))
            }
            "week" if self.is(i, &["next"]) => (Day::Offset(7), j + 1),
            "weekend" if prefixed => (Day::Weekday(Weekday::Saturday), j + 1),
            w if weekday(w).is_some() => (Day::Weekday(weekday(w)?), j + 1),
            w if month(w).is_some() => {
                let k = j + 1 + usize::from(self.is(j + 1, &["the"]));
                let d = self.word(k).and_then(|d| ordinal(d).or_else(|| number(d)))?;
                ((1..=31).contains(&d)).then_some((Day::Date { month: month(w)?, day: d as i8 }, k + 1))?
            }
            _ => {
                // "the 10th", "the 10th of March", "10th of March".
                let k = j + usize::from(self.is(j, &["the"]));
                let d = ordinal(self.word(k)?)? as i8;
                if self.is(k + 1, &["of"])
                    && let Some(m) = self.word(k + 2).and_then(month)
                {
                    (Day::Date { month: m, day: d }, k + 3)
                } else if k > j || prefixed {
                    (Day::Nth(d), k + 1)
                } else {
                    return None;
                }
            }
        };
        let pod = self.word(n).and_then(part_of_day);
        n += usize::from(pod.is_some());
        Some((day, pod, n))
    }

    /// "at 5", "at 5 pm", "at 17:30", "at five thirty", "noon", "half past six", "quarter to
    /// eight", "10 past 4", "at 9 in the morning". A bare number is a time only after "at"/"by"
    /// or before am/pm/o'clock.
    fn clock(&self, i: usize) -> Option<(Clock, usize)> {
        let cue = self.is(i, &["at", "by", "around", "before"]);
        let j = i + usize::from(cue);
        let named = |w: &str| match w {
            "noon" | "midday" => Some(Clock { hour: 12, minute: 0, meridiem: Some(Meridiem::Pm), exact: true }),
            "midnight" => Some(Clock { hour: 0, minute: 0, meridiem: None, exact: true }),
            _ => None,
        };
        if let Some(c) = self.word(j).and_then(named) {
            return Some((c, j + 1));
        }
        // "half past six", "quarter to eight", "ten past four", "20 minutes to 5".
        let (before_hour, k) = match self.word(j)? {
            "half" => (Some(30i32), j + 1),
            "quarter" => (Some(15), j + 1),
            // "ten to five" after "at", or "10 minutes past 4": "chapter 9 to 12" is no time.
            w => match number(w) {
                Some(m @ 1..=30) if cue || self.is(j + 1, &["minutes", "minute"]) => {
                    (Some(m as i32), j + 1 + usize::from(self.is(j + 1, &["minutes", "minute"])))
                }
                _ => (None, j),
            },
        };
        if let Some(m) = before_hour
            && let Some(sign) = match self.word(k) {
                Some("past" | "after") => Some(1),
                Some("to" | "till" | "of") if self.word(j) != Some("half") => Some(-1),
                _ => None,
            }
            && let Some((hour, n)) = self.hour_word(k + 1)
        {
            let total = (hour as i32 * 60 + sign * m).rem_euclid(24 * 60);
            let clock = Clock { hour: total as u32 / 60, minute: total as u32 % 60, meridiem: None, exact: false };
            return Some(self.meridiem(clock, n));
        }
        // "5", "5:30", "17:30", "five thirty", "five oh five", "1730".
        let w = self.word(j)?;
        let (hour, minute, mut n) = if let Some((h, m)) = w.split_once(':') {
            (h.parse().ok()?, m.parse().ok().filter(|m: &u32| *m < 60 && m_len(m) == 2)?, j + 1)
        } else if w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()) && cue {
            (w[..2].parse().ok()?, w[2..].parse().ok().filter(|m| *m < 60)?, j + 1)
        } else {
            let h = number(w)?;
            match self.minutes(j + 1) {
                Some((m, n)) => (h, m, n),
                None => (h, 0, j + 1),
            }
        };
        if hour > 24 {
            return None;
        }
        let mut clock = Clock {
            hour: hour % 24,
            minute,
            meridiem: None,
            exact: hour == 0 || hour > 12 || w.contains(':') && w.starts_with('0'),
        };
        let oclock = self.is(n, &["oclock"]);
        n += usize::from(oclock);
        let (with, after) = self.meridiem(clock, n);
        let said = with.meridiem.is_some() || after > n;
        // "6:30" is a time on its own ("a reminder for 6:30"); a bare "6" needs a cue.
        if !(cue || oclock || said || w.contains(':')) || (said && !(1..=12).contains(&hour) && !clock.exact) {
            return None;
        }
        clock = with;
        Some((clock, after))
    }

    /// "thirty", "45", "oh five", "forty five" after an hour.
    fn minutes(&self, i: usize) -> Option<(u32, usize)> {
        let w = self.word(i)?;
        if w == "oh" {
            let m = number(self.word(i + 1)?)?;
            return (m < 10).then_some((m, i + 2));
        }
        let m = number(w)?;
        if w.chars().all(|c| c.is_ascii_digit()) {
            return (w.len() == 2 && m < 60).then_some((m, i + 1));
        }
        if !(10..60).contains(&m) {
            return None;
        }
        if m >= 20
            && m % 10 == 0
            && let Some(ones) = self.word(i + 1).and_then(number).filter(|o| (1..10).contains(o))
        {
            return Some((m + ones, i + 2));
        }
        Some((m, i + 1))
    }

    /// An hour after "past"/"to": a number 1–12 (or 0–23), "noon", "midnight".
    fn hour_word(&self, i: usize) -> Option<(u32, usize)> {
        match self.word(i)? {
            "noon" | "midday" => Some((12, i + 1)),
            "midnight" => Some((0, i + 1)),
            w => number(w).filter(|h| *h <= 23).map(|h| (h, i + 1)),
        }
    }

    /// am/pm after a clock: "pm", "in the morning", "in the evening", "at night".
    fn meridiem(&self, mut clock: Clock, i: usize) -> (Clock, usize) {
        let (m, n) = match self.word(i) {
            Some("am") => (Some(Meridiem::Am), i + 1),
            Some("pm") => (Some(Meridiem::Pm), i + 1),
            Some("in") if self.is(i + 1, &["the"]) => match self.word(i + 2) {
                Some("morning") => (Some(Meridiem::Am), i + 3),
                Some("afternoon" | "evening") => (Some(Meridiem::Pm), i + 3),
                _ => (None, i),
            },
            Some("at") if self.is(i + 1, &["night"]) => {
                (Some(if (6..12).contains(&clock.hour) { Meridiem::Pm } else { Meridiem::Am }), i + 2)
            }
            _ => (None, i),
        };
        if m.is_some() && !clock.exact {
            clock.meridiem = m;
        }
        (clock, n)
    }

    /// "this morning", "in the afternoon", "this evening", "at night".
    fn part_of_day(&self, i: usize) -> Option<(PartOfDay, usize)> {
        let lead = match self.word(i)? {
            "this" => 1,
            "in" if self.is(i + 1, &["the"]) => 2,
            "at" if self.is(i + 1, &["night"]) => 1,
            _ => return None,
        };
        let p = part_of_day(self.word(i + lead)?)?;
        Some((p, i + lead + 1))
    }
}

fn m_len(m: &u32) -> usize {
    if *m < 10 { 2 } else { m.to_string().len() }
}

fn part_of_day(w: &str) -> Option<PartOfDay> {
    match w {
        "morning" => Some(PartOfDay::Morning),
        "afternoon" => Some(PartOfDay::Afternoon),
        "evening" => Some(PartOfDay::Evening),
        "night" => Some(PartOfDay::Night),
        _ => None,
    }
}

fn weekday(w: &str) -> Option<Weekday> {
    let w = w.strip_suffix('s').filter(|s| s.ends_with("day")).unwrap_or(w);
    Some(match w {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

fn month(w: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS.iter().position(|m| *m == w || (w.len() == 3 && m.starts_with(w) && w != "may")).map(|n| n as i8 + 1)
}

/// The usual reading of an hour 1–12 said with a day but no am/pm: 1–6 afternoon, 7–11 morning.
fn usual(hour: u32) -> u32 {
    match hour {
        1..=6 => hour + 12,
        _ => hour,
    }
}

/// The hours `clock` may mean, in `pod` if one was said, the likelier first.
fn hours(clock: &Clock, pod: Option<PartOfDay>) -> Vec<u32> {
    let h = clock.hour;
    if clock.exact {
        return vec![h];
    }
    match (clock.meridiem, pod) {
        (Some(Meridiem::Am), _) | (None, Some(PartOfDay::Morning)) => vec![h % 12],
        (Some(Meridiem::Pm), _) | (None, Some(PartOfDay::Afternoon | PartOfDay::Evening)) => vec![h % 12 + 12],
        (None, Some(PartOfDay::Night)) => match h {
            6..=11 => vec![h + 12],
            12 => vec![0],
            _ => vec![h],
        },
        (None, None) => vec![h % 12, h % 12 + 12],
    }
}

fn at(date: Date, hour: u32, minute: u32, now: &ZonedDateTime) -> Option<ZonedDateTime> {
    let time = Time::new(hour as i8, minute as i8, 0, 0).ok()?;
    DateTime::from_parts(date, time).to_zoned_datetime(now.time_zone().clone()).ok()
}

/// The one time `parts` name together, or `None` when they do not make one.
fn resolve(parts: Vec<Part>, now: &ZonedDateTime) -> Option<ZonedDateTime> {
    let (mut after, mut day, mut clock, mut pod) = (None, None, None, None);
    for part in parts {
        match part {
            Part::After(a) => after = Some(a),
            Part::Day(d, p) => {
                day = Some(d);
                pod = p.or(pod);
            }
            Part::Clock(c) => clock = Some(c),
            Part::PartOfDay(p) => pod = Some(p),
        }
    }
    let today = now.date();
    if let Some(a) = after {
        if a.seconds != 0 || (clock.is_none() && pod.is_none()) {
            // Exact from now ("in 20 minutes"; "in a week" keeps the time of day).
            let span = jiff::Span::new().months(a.months).days(a.days).seconds(a.seconds);
            return now.checked_add(span).ok();
        }
        let later = today.checked_add(jiff::Span::new().months(a.months).days(a.days)).ok()?;
        day = Some(Day::Offset(later.since(today).ok()?.get_days() as i64));
    }
    let date = match day {
        None => None,
        Some(Day::Offset(n)) => Some(today.checked_add(jiff::Span::new().days(n)).ok()?),
        Some(Day::Weekday(w)) => {
            let n = match today.weekday().until(w) {
                0 => 7,
                n => n,
            };
            Some(today.checked_add(jiff::Span::new().days(n)).ok()?)
        }
        Some(Day::Date { month, day }) => {
            let this = Date::new(today.year(), month, day).ok()?;
            Some(if this < today { Date::new(today.year() + 1, month, day).ok()? } else { this })
        }
        Some(Day::Nth(d)) => {
            let this = Date::new(today.year(), today.month(), d).ok();
            match this.filter(|t| *t >= today) {
                Some(t) => Some(t),
                None => {
                    let next = today.first_of_month().checked_add(jiff::Span::new().months(1)).ok()?;
                    Some(Date::new(next.year(), next.month(), d).ok()?)
                }
            }
        }
    };
    match (date, clock) {
        (Some(date), Some(c)) => {
            let options = hours(&c, pod);
            // With a day but no am/pm: the usual reading, except today, where the next
            // occurrence is meant.
            let pick = |date: Date| match options.as_slice() {
                [one] => *one,
                _ if date != today => usual(c.hour),
                _ => *options
                    .iter()
                    .find(|h| at(date, **h, c.minute, now).is_some_and(|t| t > *now))
                    .unwrap_or(&usual(c.hour)),
            };
            let t = at(date, pick(date), c.minute, now)?;
            // Past ("today at 7" said at 8 pm): the next day.
            if t > *now { Some(t) } else { at(date.tomorrow().ok()?, pick(date.tomorrow().ok()?), c.minute, now) }
        }
        (Some(date), None) => {
            let t = at(date, pod.map_or(9, |p| p.default_hour()) as u32, 0, now)?;
            if t <= *now { at(date.tomorrow().ok()?, t.hour() as u32, 0, now) } else { Some(t) }
        }
        (None, Some(c)) => {
            let options = hours(&c, pod);
            for h in &options {
                if let Some(t) = at(today, *h, c.minute, now).filter(|t| t > now) {
                    return Some(t);
                }
            }
            let hour = if options.len() > 1 { usual(c.hour) } else { options[0] };
            at(today.tomorrow().ok()?, hour, c.minute, now)
        }
        (None, None) => {
            let p = pod?;
            let t = at(today, p.default_hour() as u32, 0, now)?;
            if t <= *now { at(today.tomorrow().ok()?, t.hour() as u32, 0, now) } else { Some(t) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::words::words;
    use super::*;

    fn due(text: &str, now: &str) -> Option<String> {
        let now: ZonedDateTime = format!("{now}[Europe/Berlin]").parse().unwrap();
        find(&words(text), &now).map(|f| f.due.strftime("%Y-%m-%d %H:%M").to_string())
    }

    #[test]
    fn an_hour_without_am_pm_is_its_next_occurrence() {
        assert_eq!(due("at 5", "2026-12-07T03:00").as_deref(), Some("2026-12-07 05:00"));
        assert_eq!(due("at 5", "2026-12-07T08:00").as_deref(), Some("2026-12-07 17:00"));
        assert_eq!(due("at 9", "2026-12-07T20:00").as_deref(), Some("2026-12-07 21:00"));
        // Both past: tomorrow, in the usual reading.
        assert_eq!(due("at 5", "2026-12-07T18:00").as_deref(), Some("2026-12-08 17:00"));
        assert_eq!(due("at 5 pm", "2026-12-07T18:00").as_deref(), Some("2026-12-08 17:00"));
    }

    #[test]
    fn numbers_that_are_not_times_are_left() {
        assert_eq!(due("buy 5 apples", "2026-12-07T08:00"), None);
        assert_eq!(due("chapter 9 to 12", "2026-12-07T08:00"), None);
        assert_eq!(due("on the 32nd", "2026-12-07T08:00"), None);
        assert_eq!(due("on February 30", "2026-12-07T08:00"), None);
    }

    #[test]
    fn the_span_is_the_whole_expression() {
        let w = words("call Ana tomorrow at half past six pm please");
        let now: ZonedDateTime = "2026-12-07T08:00[Europe/Berlin]".parse().unwrap();
        let f = find(&w, &now).unwrap();
        assert_eq!((f.first, f.end), (2, 8));
        assert_eq!(f.due.strftime("%d %H:%M").to_string(), "08 18:30");
    }
}
