//! White-label branding (`GET|PATCH /v3/customization/`): validated colour and images, per
//! application, served publicly to the hosted page, which shows them in Chromium.

use crate::browser::artifacts;
use crate::helpers::{sample_png, spawn_app, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn patch_form(app: &TestApp, key: &str, form: Form) -> (StatusCode, Value) {
    app.send_form(Method::PATCH, "/v3/customization/", Some(key), form)
        .await
}

fn png(name: &str, width: u32, height: u32) -> Part {
    Part::bytes(sample_png(width, height, 3))
        .file_name(format!("{name}.png"))
        .mime_str("image/png")
        .unwrap()
}

#[tokio::test]
async fn branding_is_validated_stored_per_application_and_shown_on_the_page() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let (status, empty) = app.get("/v3/customization/", key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"primary_color": null, "image_square": null, "image_rectangular": null, "image_favicon": null})
    );

    // A colour too light for white text, a text file as a logo, an unknown field.
    let (status, body) = patch_form(
        &app,
        key,
        Form::new()
            .text("primary_color", "#ffcc00")
            .text("motto", "x"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["primary_color"][0]
            .as_str()
            .unwrap()
            .contains("contrast"),
        "{body}"
    );
    assert!(body["motto"].is_array(), "{body}");
    let text = Part::bytes(b"not a picture".to_vec()).file_name("logo.png");
    let (status, body) = patch_form(&app, key, Form::new().part("image_square", text)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let mut big = sample_png(64, 64, 1);
    big.resize(1024 * 1024 + 1, 0);
    let big = Part::bytes(big).file_name("big.png");
    let (status, body) = patch_form(&app, key, Form::new().part("image_square", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    let (status, branding) = patch_form(
        &app,
        key,
        Form::new()
            .text("primary_color", "#0B6E4F")
            .part("image_rectangular", png("logo", 240, 60))
            .part("image_favicon", png("icon", 32, 32)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{branding}");
    assert_eq!(branding["primary_color"], "#0b6e4f");
    assert!(branding["image_square"].is_null());
    let logo_url = branding["image_rectangular"].as_str().unwrap().to_owned();
    assert!(logo_url.starts_with(&app.base), "{logo_url}");
    let logo = app.client.get(&logo_url).send().await.unwrap();
    assert_eq!(logo.status(), StatusCode::OK);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert!(logo.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // The other application is untouched; its files are not there.
    let (_, other) = app.get("/v3/customization/", &app.sandbox.api_key).await;
    assert!(other["primary_color"].is_null(), "{other}");
    let foreign = logo_url.replace(&app.live.id.to_string(), &app.sandbox.id.to_string());
    let response = app.client.get(&foreign).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The hosted page shows the logo, the favicon and the accent colour.
    let created = app.create_session(json!({})).await;
    crate::browser::run_script(
        "flow.js",
        &[
            app.base.clone(),
            json!({"mode": "branding", "url": created["url"], "artifacts": artifacts("flow"),
                   "accent": "rgb(11, 110, 79)"})
            .to_string(),
        ],
        |question| async move { panic!("unexpected question {question}") },
    )
    .await;

    // JSON removes what it names; the old logo file is gone.
    let (status, after) = app
        .patch(
            "/v3/customization/",
            key,
            json!({"image_rectangular": null, "primary_color": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert!(after["image_rectangular"].is_null() && after["primary_color"].is_null());
    assert!(after["image_favicon"].is_string());
    let response = app.client.get(&logo_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
