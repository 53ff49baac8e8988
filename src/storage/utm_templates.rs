//! The `utm_templates` table: the operator's reusable UTM fields, by name.

use serde::Deserialize;
use serde_json::Value;

use super::database::{ms, whole, Database};
use super::error::StorageError;
use crate::domain::controls::Utm;
use crate::domain::timestamp::Timestamp;

/// Templates listed at most: a team keeps a handful per campaign; this bounds one answer.
pub const MAX_LISTED: u32 = 1000;

/// One stored template.
#[derive(Debug, Clone)]
pub struct UtmTemplate {
    pub name: String,
    pub utm: Utm,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
}

#[derive(Deserialize)]
struct Row {
    name: String,
    fields: String,
    created_at: f64,
    created_by: String,
    updated_at: f64,
}

impl TryFrom<Row> for UtmTemplate {
    type Error = StorageError;

    fn try_from(row: Row) -> Result<UtmTemplate, StorageError> {
        let bad = |e: String| StorageError::new(format!("D1 utm_templates row {:?}", row.name), e);
        let value: Value = serde_json::from_str(&row.fields).map_err(|e| bad(e.to_string()))?;
        let utm = Utm::parse(&value, "fields").map_err(|e| bad(e.to_string()))?;
        let time = |n: f64, column| whole(n, column).map(Timestamp::from_millis).map_err(bad);
        Ok(UtmTemplate {
            utm,
            created_at: time(row.created_at, "created_at")?,
            updated_at: time(row.updated_at, "updated_at")?,
            name: row.name.clone(),
            created_by: row.created_by.clone(),
        })
    }
}

const COLUMNS: &str = "name, fields, created_at, created_by, updated_at";

pub struct TemplateStore {
    db: Database,
}

impl TemplateStore {
    pub fn on(db: Database) -> TemplateStore {
        TemplateStore { db }
    }

    /// Every template, by name.
    pub async fn list(&self) -> Result<Vec<UtmTemplate>, StorageError> {
        let rows: Vec<Row> = self
            .db
            .rows(
                &format!("SELECT {COLUMNS} FROM utm_templates ORDER BY name LIMIT {MAX_LISTED}"),
                &[],
                "list UTM templates",
            )
            .await?;
        rows.into_iter().map(UtmTemplate::try_from).collect()
    }

    /// The template named `name`, if there is one.
    pub async fn get(&self, name: &str) -> Result<Option<UtmTemplate>, StorageError> {
        let row: Option<Row> = self
            .db
            .first(
                &format!("SELECT {COLUMNS} FROM utm_templates WHERE name = ?1"),
                &[name.into()],
                "read UTM template",
            )
            .await?;
        row.map(UtmTemplate::try_from).transpose()
    }

    /// Stores a new template; `false` when the name is taken.
    pub async fn insert(
        &self,
        name: &str,
        utm: &Utm,
        by: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let changed = self
            .db
            .execute(
                "INSERT INTO utm_templates (name, fields, created_at, created_by, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?3) ON CONFLICT (name) DO NOTHING",
                &[
                    name.into(),
                    utm.to_value().to_string().into(),
                    ms(now),
                    by.into(),
                ],
                "insert UTM template",
            )
            .await?;
        Ok(changed == 1)
    }

    /// Replaces a template's fields; `false` when there is no such template.
    pub async fn replace(
        &self,
        name: &str,
        utm: &Utm,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let changed = self
            .db
            .execute(
                "UPDATE utm_templates SET fields = ?2, updated_at = ?3 WHERE name = ?1",
                &[name.into(), utm.to_value().to_string().into(), ms(now)],
                "replace UTM template",
            )
            .await?;
        Ok(changed == 1)
    }

    /// Deletes a template; `false` when there was none. Links made from it keep their
    /// fields: a template is copied at creation, never referenced.
    pub async fn delete(&self, name: &str) -> Result<bool, StorageError> {
        let changed = self
            .db
            .execute(
                "DELETE FROM utm_templates WHERE name = ?1",
                &[name.into()],
                "delete UTM template",
            )
            .await?;
        Ok(changed == 1)
    }
}
