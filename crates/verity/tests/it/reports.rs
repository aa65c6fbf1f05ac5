//! The session PDF report over HTTP: v3 with an API key and v1 with a Bearer token, with and
//! without the trailing slash; the text is read back with poppler's `pdftotext`.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Write as _;

/// The PDF's text, as `pdftotext -layout` extracts it (poppler-utils; scripts/test installs it).
fn pdf_text(pdf: &[u8]) -> String {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext (Debian package poppler-utils) is installed");
    assert!(output.status.success(), "pdftotext failed");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn session_report_is_a_pdf_with_the_session_in_it() {
    let app = spawn_app().await;
    let session = app
        .create_session(json!({"vendor_data": "Zoë Ñúñez", "metadata": {"plan": "gold"}}))
        .await;
    let id = session["session_id"].as_str().unwrap().to_owned();
    app.review_decision(&id, "Declined", "document photo unreadable")
        .await;

    for path in [
        format!("/v3/session/{id}/generate-pdf/"),
        format!("/v3/session/{id}/generate-pdf"),
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .header("x-api-key", &app.live.api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(
            response.headers()["content-disposition"],
            format!("attachment; filename=session_{id}.pdf").as_str()
        );
        let pdf = response.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_text(&pdf);
        for expected in [
            id.as_str(),
            "Declined",
            "Zoë Ñúñez",
            "document photo unreadable",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    // v1 with a Bearer client token; another application's session is 404 either way.
    let token = app.client_token(&app.live).await;
    for path in [
        format!("/v1/session/{id}/generate-pdf/"),
        format!("/v1/session/{id}/generate-pdf"),
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.bytes().await.unwrap().starts_with(b"%PDF-"));
    }
    let other_token = app.client_token(&app.sandbox).await;
    let (status, body) = app
        .bearer(
            reqwest::Method::GET,
            &format!("/v1/session/{id}/generate-pdf/"),
            &other_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
    let (status, _) = app
        .get(
            &format!("/v3/session/{id}/generate-pdf/"),
            &app.sandbox.api_key,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
