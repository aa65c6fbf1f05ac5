//! Media (images, documents) behind `object_store`: a local directory by default, or any
//! S3-compatible bucket (`s3://bucket/prefix`, credentials from the usual `AWS_*` variables).

use crate::error::Result;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl MediaStore {
    /// `file:///abs/dir`, a bare path, or `s3://bucket[/prefix]`.
    pub fn from_url(url: &str) -> Result<Self> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let store = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_allow_http(true)
                .build()?;
            return Ok(Self {
                store: Arc::new(store),
                prefix: Path::from(prefix),
            });
        }
        let dir = url.strip_prefix("file://").unwrap_or(url);
        std::fs::create_dir_all(dir).map_err(anyhow::Error::from)?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self {
            store: Arc::new(store),
            prefix: Path::from(""),
        })
    }

    fn path(&self, key: &str) -> Path {
        let mut parts: Vec<String> = self.prefix.parts().map(|p| p.as_ref().to_owned()).collect();
        parts.extend(key.split('/').filter(|p| !p.is_empty()).map(str::to_owned));
        Path::from_iter(parts)
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&self.path(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.store.get(&self.path(key)).await {
            Ok(result) => Ok(Some(result.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Removes one object; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Removes every object under `prefix` (a directory-like path); returns how many were removed.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize> {
        let root = self.path(prefix);
        let objects: Vec<_> = self.store.list(Some(&root)).try_collect().await?;
        for object in &objects {
            match self.store.delete(&object.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(objects.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_put_get_delete_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::from_url(&format!("file://{}", dir.path().display())).unwrap();
        media
            .put("app/s1/portrait.png", b"png".to_vec())
            .await
            .unwrap();
        media
            .put("app/s1/front.jpg", b"jpg".to_vec())
            .await
            .unwrap();
        media
            .put("app/s2/front.jpg", b"other".to_vec())
            .await
            .unwrap();
        assert_eq!(
            media.get("app/s1/portrait.png").await.unwrap().unwrap(),
            b"png"
        );
        assert_eq!(
            media.delete_prefix("app/s1/portrait.png").await.unwrap(),
            0,
            "prefixes are directories"
        );
        media.delete("app/s1/front.jpg").await.unwrap();
        media.delete("app/s1/front.jpg").await.unwrap();
        assert!(media.get("app/s1/front.jpg").await.unwrap().is_none());
        assert_eq!(media.delete_prefix("app/s1").await.unwrap(), 1);
        assert!(media.get("app/s1/portrait.png").await.unwrap().is_none());
        assert!(media.get("app/s2/front.jpg").await.unwrap().is_some());
        assert!(!dir.path().join("app/s1/portrait.png").exists());
    }
}
