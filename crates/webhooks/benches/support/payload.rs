//! A realistic KYC `status.updated` payload of about 4 KB (v3 decision with plural arrays,
//! Unicode names, whole and fractional floats), shared by the benchmarks.

use serde_json::{json, Value};
use verity_webhooks::{session_envelope_v3, EventType, SessionEvent};

pub fn realistic_payload() -> Value {
    let warning = |code: &str| {
        json!({"risk": code, "feature": "ID_VERIFICATION", "log_type": "warning",
        "short_description": "Possible duplicated user", "long_description": "The document number matches another approved session in this application.",
        "additional_data": null})
    };
    let decision = json!({
        "session_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "session_number": 43762, "status": "Approved",
        "workflow_id": "22222222-3333-4444-5555-666666666666", "features": ["ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "AML", "IP_ANALYSIS"],
        "vendor_data": "user-123", "metadata": {"plan": "premium", "signup_source": "mobile-app"}, "callback": "https://example.com/done",
        "id_verifications": [{"node_id": "id_verification_1", "status": "Approved", "document_type": "Passport", "document_number": "X1234567Z",
            "personal_number": null, "first_name": "José María", "last_name": "Müller-Ñúñez 王", "full_name": "José María Müller-Ñúñez 王",
            "date_of_birth": "1990-01-01", "age": 35.0, "expiration_date": "2031-05-20", "date_of_issue": "2021-05-20",
            "issuing_state": "ESP", "issuing_state_name": "Spain", "gender": "M", "nationality": "ESP", "place_of_birth": "Málaga",
            "address": "Calle de Alcalá 42, 28014 Madrid", "portrait_image": "https://media.example.com/p/aaaa.jpg",
            "front_image": "https://media.example.com/f/aaaa.jpg", "back_image": null, "mrz_verified": true,
            "warnings": [warning("POSSIBLE_DUPLICATED_USER")]}],
        "liveness_checks": [{"node_id": "liveness_1", "status": "Approved", "method": "PASSIVE", "score": 95.4, "age_estimation": 34.2,
            "reference_image": "https://media.example.com/l/aaaa.jpg", "video_url": null, "warnings": []}],
        "face_matches": [{"node_id": "face_match_1", "status": "Approved", "score": 92.0, "source_image": "https://media.example.com/s.jpg",
            "target_image": "https://media.example.com/t.jpg", "warnings": []}],
        "aml_screenings": [{"node_id": "aml_1", "status": "Approved", "total_hits": 0, "score": 0.0, "hits": [], "screened_data": {
            "full_name": "José María Müller-Ñúñez", "date_of_birth": "1990-01-01", "nationality": "ESP", "document_number": "X1234567Z"}, "warnings": []}],
        "ip_analyses": [{"node_id": "ip_analysis_1", "status": "Approved", "device_brand": "Apple", "device_model": "iPhone", "browser_family": "Mobile Safari",
            "os_family": "iOS", "platform": "mobile", "ip_country": "Spain", "ip_country_code": "ES", "ip_state": "Madrid", "ip_city": "Madrid",
            "latitude": 40.4165, "longitude": -3.70256, "ip_address": "203.0.113.7", "isp": "Telefonica", "organization": "Telefonica de Espana",
            "is_vpn_or_tor": false, "is_data_center": false, "time_zone": "Europe/Madrid", "time_zone_offset": "+0100",
            "locations_info": {"ip": {"location": {"latitude": 40.4165, "longitude": -3.70256}, "distance_from_id_document": {"distance": 3.2, "direction": "NE"}}},
            "warnings": []}],
        "reviews": [{"user": "reviewer@example.com", "new_status": "Approved", "comment": "Documento válido ✅", "created_at": "2026-11-22T10:00:00Z"}],
        "created_at": "2026-11-22T09:59:54Z"
    });
    session_envelope_v3(&SessionEvent {
        event_id: "9c0c8b8a-1111-4222-9333-444444444444".into(),
        webhook_type: EventType::StatusUpdated,
        timestamp: 1774970000,
        created_at: 1774969994,
        application_id: "11111111-2222-3333-4444-555555555555".into(),
        environment: "live".into(),
        session_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
        status: "Approved".into(),
        workflow_id: Some("22222222-3333-4444-5555-666666666666".into()),
        workflow_version: Some(4),
        vendor_data: Some("user-123".into()),
        metadata: Some(json!({"plan": "premium", "signup_source": "mobile-app"})),
        decision: Some(decision),
        resubmit_info: None,
        kyb: None,
    })
}
