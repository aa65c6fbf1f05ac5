//! The ten session statuses and the rules that move a session between them (spec §4).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A session's rolled-up status. The serialized literals are Didit's exact, case-sensitive strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum SessionStatus {
    #[serde(rename = "Not Started")]
    NotStarted,
    #[serde(rename = "In Progress")]
    InProgress,
    #[serde(rename = "Awaiting User")]
    AwaitingUser,
    #[serde(rename = "In Review")]
    InReview,
    Approved,
    Declined,
    Resubmitted,
    Expired,
    Abandoned,
    #[serde(rename = "Kyc Expired")]
    KycExpired,
}

use SessionStatus::*;

impl SessionStatus {
    pub const ALL: [SessionStatus; 10] = [
        NotStarted,
        InProgress,
        AwaitingUser,
        InReview,
        Approved,
        Declined,
        Resubmitted,
        Expired,
        Abandoned,
        KycExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotStarted => "Not Started",
            InProgress => "In Progress",
            AwaitingUser => "Awaiting User",
            InReview => "In Review",
            Approved => "Approved",
            Declined => "Declined",
            Resubmitted => "Resubmitted",
            Expired => "Expired",
            Abandoned => "Abandoned",
            KycExpired => "Kyc Expired",
        }
    }

    /// Exact, case-sensitive parse of a literal.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Still waiting on the person: such a session may be reused for the same `vendor_data`.
    pub fn is_unfinished(self) -> bool {
        matches!(self, NotStarted | InProgress | Resubmitted | AwaitingUser)
    }

    /// The engines or a reviewer reached a verdict: the steps have results a reviewer may
    /// change, and the hosted flow shows the outcome.
    pub fn is_decided(self) -> bool {
        matches!(self, Approved | Declined | InReview)
    }

    /// A reviewer may change the status by hand (spec §4.2's "Manual" column has entries).
    pub fn is_manually_updatable(self) -> bool {
        !matches!(self, NotStarted | InProgress | AwaitingUser | Expired)
    }

    /// Webhooks for these statuses carry the full `decision` (spec §4.1).
    pub fn carries_decision(self) -> bool {
        matches!(self, InReview | Approved | Declined | Abandoned)
    }

    /// Transitions the system makes by itself (spec §4.2, "Automatic" column).
    pub fn automatic_successors(self) -> &'static [SessionStatus] {
        match self {
            NotStarted => &[InProgress, Expired],
            InProgress => &[Approved, Declined, InReview, Abandoned, AwaitingUser],
            AwaitingUser => &[Approved, Declined, InReview],
            // Ongoing AML monitoring may escalate a reviewed or approved session.
            InReview => &[Declined],
            Approved => &[KycExpired, InReview, Declined],
            Resubmitted => &[InProgress, Approved, Declined, InReview, AwaitingUser],
            Declined | Expired | Abandoned | KycExpired => &[],
        }
    }

    pub fn can_move_automatically_to(self, next: SessionStatus) -> bool {
        self.automatic_successors().contains(&next)
    }

    /// Checks a manual change (`update-status`, console) against spec §4.2's "Manual" column.
    pub fn check_manual_transition(self, next: ManualStatus) -> Result<(), TransitionError> {
        let allowed: &[ManualStatus] = match self {
            InReview | Resubmitted | Abandoned | KycExpired => &[
                ManualStatus::Approved,
                ManualStatus::Declined,
                ManualStatus::Resubmitted,
            ],
            Approved => &[ManualStatus::Declined, ManualStatus::Resubmitted],
            Declined => &[ManualStatus::Approved, ManualStatus::Resubmitted],
            NotStarted | InProgress | AwaitingUser | Expired => {
                return Err(TransitionError::WrongCurrentStatus(self))
            }
        };
        if allowed.contains(&next) {
            Ok(())
        } else {
            Err(TransitionError::AlreadyInStatus(self))
        }
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The statuses a caller may set by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualStatus {
    Approved,
    Declined,
    Resubmitted,
}

impl ManualStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Approved" => Some(Self::Approved),
            "Declined" => Some(Self::Declined),
            "Resubmitted" => Some(Self::Resubmitted),
            _ => None,
        }
    }

    pub fn status(self) -> SessionStatus {
        match self {
            Self::Approved => Approved,
            Self::Declined => Declined,
            Self::Resubmitted => Resubmitted,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Didit answers this with the literal detail "Wrong Current Status".
    #[error("Wrong Current Status: a session that is {0} cannot be updated manually.")]
    WrongCurrentStatus(SessionStatus),
    #[error("Wrong Current Status: the session is already {0}.")]
    AlreadyInStatus(SessionStatus),
}

/// Status of one feature (node) inside a decision; a smaller enum than the session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum FeatureStatus {
    Approved,
    Declined,
    #[serde(rename = "In Review")]
    InReview,
    #[serde(rename = "Not Finished")]
    NotFinished,
    #[serde(rename = "Not Started")]
    NotStarted,
    Expired,
}

impl FeatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureStatus::Approved => "Approved",
            FeatureStatus::Declined => "Declined",
            FeatureStatus::InReview => "In Review",
            FeatureStatus::NotFinished => "Not Finished",
            FeatureStatus::NotStarted => "Not Started",
            FeatureStatus::Expired => "Expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            FeatureStatus::Approved,
            FeatureStatus::Declined,
            FeatureStatus::InReview,
            FeatureStatus::NotFinished,
            FeatureStatus::NotStarted,
            FeatureStatus::Expired,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_updates_are_refused_exactly_where_the_table_has_no_manual_entry() {
        for status in SessionStatus::ALL {
            let refused = matches!(
                status.check_manual_transition(ManualStatus::Approved),
                Err(TransitionError::WrongCurrentStatus(_))
            );
            assert_eq!(status.is_manually_updatable(), !refused, "{status}");
        }
        let decided: Vec<_> = SessionStatus::ALL
            .into_iter()
            .filter(|s| s.is_decided())
            .collect();
        assert_eq!(decided, [InReview, Approved, Declined]);
    }

    #[test]
    fn literals_round_trip_exactly() {
        for status in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(
                serde_json::from_str::<SessionStatus>(&json).unwrap(),
                status
            );
        }
        assert_eq!(SessionStatus::parse("KYC Expired"), None);
        assert_eq!(SessionStatus::parse("approved"), None);
        assert_eq!(SessionStatus::KycExpired.as_str(), "Kyc Expired");
    }

    /// Spec §4.2 "Manual" column, every (from, to) pair.
    #[test]
    fn manual_transition_table_is_exhaustive() {
        use ManualStatus as M;
        let table: &[(SessionStatus, &[ManualStatus])] = &[
            (NotStarted, &[]),
            (InProgress, &[]),
            (AwaitingUser, &[]),
            (InReview, &[M::Approved, M::Declined, M::Resubmitted]),
            (Approved, &[M::Declined, M::Resubmitted]),
            (Declined, &[M::Approved, M::Resubmitted]),
            (Resubmitted, &[M::Approved, M::Declined, M::Resubmitted]),
            (Expired, &[]),
            (Abandoned, &[M::Approved, M::Declined, M::Resubmitted]),
            (KycExpired, &[M::Approved, M::Declined, M::Resubmitted]),
        ];
        assert_eq!(table.len(), SessionStatus::ALL.len());
        for (from, allowed) in table {
            for to in [M::Approved, M::Declined, M::Resubmitted] {
                let result = from.check_manual_transition(to);
                assert_eq!(result.is_ok(), allowed.contains(&to), "{from} -> {to:?}");
            }
        }
    }

    #[test]
    fn manual_changes_from_open_sessions_are_wrong_current_status() {
        for from in [NotStarted, InProgress, AwaitingUser, Expired] {
            assert_eq!(
                from.check_manual_transition(ManualStatus::Approved),
                Err(TransitionError::WrongCurrentStatus(from))
            );
        }
        assert_eq!(
            Approved.check_manual_transition(ManualStatus::Approved),
            Err(TransitionError::AlreadyInStatus(Approved))
        );
    }

    /// Spec §4.2 "Automatic" column, every (from, to) pair.
    #[test]
    fn automatic_transition_table_is_exhaustive() {
        for from in SessionStatus::ALL {
            for to in SessionStatus::ALL {
                let expected = matches!(
                    (from, to),
                    (NotStarted, InProgress | Expired)
                        | (
                            InProgress,
                            Approved | Declined | InReview | Abandoned | AwaitingUser
                        )
                        | (AwaitingUser, Approved | Declined | InReview)
                        | (InReview, Declined)
                        | (Approved, KycExpired | InReview | Declined)
                        | (
                            Resubmitted,
                            InProgress | Approved | Declined | InReview | AwaitingUser
                        )
                );
                assert_eq!(
                    from.can_move_automatically_to(to),
                    expected,
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn unfinished_and_decision_carrying_sets() {
        let unfinished: Vec<_> = SessionStatus::ALL
            .into_iter()
            .filter(|s| s.is_unfinished())
            .collect();
        assert_eq!(
            unfinished,
            vec![NotStarted, InProgress, AwaitingUser, Resubmitted]
        );
        let with_decision: Vec<_> = SessionStatus::ALL
            .into_iter()
            .filter(|s| s.carries_decision())
            .collect();
        assert_eq!(with_decision, vec![InReview, Approved, Declined, Abandoned]);
    }

    #[test]
    fn feature_status_literals() {
        for text in [
            "Approved",
            "Declined",
            "In Review",
            "Not Finished",
            "Not Started",
            "Expired",
        ] {
            assert_eq!(FeatureStatus::parse(text).unwrap().as_str(), text);
        }
    }
}
