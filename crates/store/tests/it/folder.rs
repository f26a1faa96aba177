use cxray_store::folder::Location;
use cxray_store::ops::{OpsDb, schema_version};
use cxray_store::{DataFolder, ErrorKind, StorageError, StoreError};

use crate::fresh;

#[test]
fn a_missing_folder_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let err = DataFolder::open(dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, StoreError::Folder(_)));
    assert!(
        err.to_string()
            .contains("does not exist: create it with `cxray init`"),
        "{err}"
    );
    let err = DataFolder::open(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("is not a cxray data folder"),
        "{err}"
    );
}

#[test]
fn a_folder_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cxray.json"),
        r#"{"format": 99, "written_by": "9.0.0"}"#,
    )
    .unwrap();
    let err = DataFolder::open(dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("written by cxray 9.0.0 (format 99)"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);
}

#[test]
fn create_refuses_a_non_empty_foreign_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = DataFolder::create(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("is not a cxray data folder"),
        "{err}"
    );
}

#[tokio::test]
async fn init_creates_every_table_empty_and_migrates_the_database() {
    let (_dir, folder) = fresh().await;
    for table in cxray_core::domain::Table::ALL {
        let info = cxray_store::tables::info(&folder, table).await.unwrap();
        assert_eq!((info.rows, info.version), (0, 0), "{table}");
        for col in table.columns() {
            assert!(
                info.columns.contains(&col.name.to_string()),
                "{table}.{}",
                col.name
            );
        }
    }
    let db = OpsDb::open(&folder.ops_db_path()).unwrap();
    assert_eq!(db.version().unwrap(), schema_version());
    // Reopening does not migrate twice.
    assert_eq!(
        OpsDb::open(&folder.ops_db_path())
            .unwrap()
            .version()
            .unwrap(),
        schema_version()
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cxray.db");
    drop(OpsDb::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'future')",
            [],
        )
        .unwrap();
    let err = OpsDb::open(&path).err().unwrap();
    assert!(
        err.to_string().contains("newer than this cxray knows"),
        "{err}"
    );
}

#[test]
fn data_folder_locations_are_paths_or_object_store_urls() {
    let remote = |text: &str| match Location::parse(text).unwrap() {
        Location::Remote(url) => url.to_string(),
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(remote("s3://bucket/a/b"), "s3://bucket/a/b/");
    assert_eq!(remote("gs://bucket"), "gs://bucket/");
    assert_eq!(remote("az://container/x/"), "az://container/x/");
    for local in ["cxray-data", "/srv/data", "./a:b", "file:///srv/data"] {
        assert!(
            matches!(Location::parse(local).unwrap(), Location::Local(_)),
            "{local}"
        );
    }
    for (bad, says) in [
        ("ftp://host/x", "unknown scheme ftp"),
        ("s3:///x", "no bucket"),
        ("s3://b/x?versionId=1", "no query"),
        ("s3://key:secret@b/x", "no query, fragment or credentials"),
        ("s3://b/a/../c", "no . or .."),
    ] {
        let err = Location::parse(bad).unwrap_err();
        assert!(
            matches!(err, StoreError::Storage(StorageError::BadUrl { .. })),
            "{bad}: {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::BadInput);
        assert!(err.to_string().contains(says), "{bad}: {err}");
    }
    let url = url::Url::parse("s3://bucket/a/b/").unwrap();
    assert!(Location::default_state(&url).ends_with("cxray/s3/bucket/a/b"));
}
