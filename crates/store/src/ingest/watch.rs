//! Conditions on a table's rows (rules' conditions) evaluated on each ingested batch as
//! its committer takes it: a commit then holds, per condition, its matching rows by
//! customer, so what evaluates the rules after the commit neither filters the commit's
//! rows again nor looks at every match of a customer it skips.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::{Expr, SessionContext};
use foldhash::{HashMap, HashMapExt};

/// The rows of one commit a condition matches, by customer id: (batch, row) positions in
/// the commit's batches, in order (hashed with foldhash: a customer id is hashed for every
/// matching row ingested).
pub type ByCustomer = HashMap<String, Vec<(u32, u32)>>;

/// One condition's matches in the batches of the commit under way.
struct Tracked {
    condition: Expr,
    compiled: Option<(SchemaRef, Arc<dyn PhysicalExpr>)>,
    /// Batches evaluated, all from the commit's first: otherwise (or after an error) its
    /// matches are incomplete and not kept.
    batches: usize,
    complete: bool,
    matches: ByCustomer,
}

/// The matches of the conditions watched on one table in the commit under way.
#[derive(Default)]
pub(crate) struct Matching {
    tracked: Vec<Tracked>,
}

impl Matching {
    /// Evaluates each of `conditions` on the commit's batch number `index`.
    pub fn add(&mut self, conditions: &[Expr], index: usize, batch: &RecordBatch) {
        self.tracked.retain(|t| conditions.contains(&t.condition));
        for (i, condition) in conditions.iter().enumerate() {
            if conditions[..i].contains(condition) {
                continue; // two rules of one condition: evaluated once
            }
            let at = match self.tracked.iter().position(|t| &t.condition == condition) {
                Some(at) => at,
                None => {
                    self.tracked.push(Tracked {
                        condition: condition.clone(),
                        compiled: None,
                        batches: 0,
                        complete: index == 0,
                        matches: HashMap::new(),
                    });
                    self.tracked.len() - 1
                }
            };
            let tracked = &mut self.tracked[at];
            if tracked.complete {
                tracked.complete = tracked.batches == index && tracked.evaluate(index, batch);
                tracked.batches += 1;
            }
        }
    }

    /// The complete matches of a commit of `batches` batches; the next commit starts anew.
    pub fn take(&mut self, batches: usize) -> Vec<(Expr, Arc<ByCustomer>)> {
        std::mem::take(&mut self.tracked)
            .into_iter()
            .filter(|t| t.complete && t.batches == batches)
            .map(|t| (t.condition, Arc::new(t.matches)))
            .collect()
    }

    /// Forgets the matches (the commit's batches changed).
    pub fn clear(&mut self) {
        self.tracked.clear();
    }
}

impl Tracked {
    /// Adds the batch's matches; false when the condition cannot be evaluated on it.
    fn evaluate(&mut self, index: usize, batch: &RecordBatch) -> bool {
        match self.try_evaluate(index, batch) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(condition = %self.condition, "not evaluated on ingested rows: {e}");
                false
            }
        }
    }

    fn try_evaluate(&mut self, index: usize, batch: &RecordBatch) -> datafusion::error::Result<()> {
        let compiled = match &self.compiled {
            Some((schema, e)) if *schema == batch.schema() => e.clone(),
            _ => {
                let e = compile(&self.condition, batch.schema())?;
                self.compiled = Some((batch.schema(), e.clone()));
                e
            }
        };
        let mask = compiled.evaluate(batch)?.into_array(batch.num_rows())?;
        let mask = cast(&mask, &DataType::Boolean)?;
        let mask = mask.as_boolean();
        let customers = match batch.column_by_name("customer_id") {
            Some(c) => cast(c, &DataType::Utf8)?,
            None => {
                return Err(datafusion::error::DataFusionError::Plan(
                    "no customer_id".into(),
                ));
            }
        };
        let customers = customers.as_string::<i32>();
        for row in (0..batch.num_rows()).filter(|&r| mask.is_valid(r) && mask.value(r)) {
            let customer = if customers.is_valid(row) {
                customers.value(row)
            } else {
                ""
            };
            let position = (index as u32, row as u32);
            match self.matches.get_mut(customer) {
                Some(rows) => rows.push(position),
                None => {
                    self.matches.insert(customer.to_string(), vec![position]);
                }
            }
        }
        Ok(())
    }
}

/// The condition as an expression over batches of `schema`, its types coerced as a
/// query's would be.
fn compile(
    condition: &Expr,
    schema: SchemaRef,
) -> datafusion::error::Result<Arc<dyn PhysicalExpr>> {
    static CONTEXT: LazyLock<SessionContext> = LazyLock::new(SessionContext::new);
    CONTEXT.create_physical_expr(condition.clone(), &DFSchema::try_from(schema)?)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Float64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::prelude::{col, lit};

    use super::*;

    fn batch(customers: &[&str], scores: &[f64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("score", DataType::Float64, true),
        ]));
        let columns: Vec<Arc<dyn Array>> = vec![
            Arc::new(StringArray::from(customers.to_vec())),
            Arc::new(Float64Array::from(scores.to_vec())),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    #[test]
    fn only_conditions_evaluated_on_every_batch_of_a_commit_are_kept() {
        let low = col("score").lt_eq(lit(6.0));
        let high = col("score").gt(lit(8));
        let unknown = col("wait").gt(lit(1.0));
        let mut matching = Matching::default();
        let both = [low.clone(), unknown.clone(), low.clone()];
        matching.add(&both, 0, &batch(&["a", "b", "a"], &[3.0, 9.0, 6.0]));
        let all = [low.clone(), unknown, high.clone(), low.clone()];
        matching.add(&all, 1, &batch(&["b", "c"], &[1.0, 10.0]));
        let kept = matching.take(2);
        assert_eq!(
            kept.len(),
            1,
            "the unknown column and the late condition are left out, the twice watched kept"
        );
        let (condition, by_customer) = &kept[0];
        assert_eq!(condition, &low);
        assert_eq!(by_customer["a"], [(0, 0), (0, 2)]);
        assert_eq!(by_customer["b"], [(1, 0)]);
        assert!(!by_customer.contains_key("c"));

        matching.add(std::slice::from_ref(&high), 0, &batch(&["c"], &[9.0]));
        let kept = matching.take(1);
        assert_eq!(
            kept[0].0, high,
            "integer literal coerced to the float column"
        );
        assert_eq!(kept[0].1["c"], [(0, 0)]);
    }
}
