//! AWS list prices, us-east-1 (US East, N. Virginia), USD, as of November 2026
//! (the date this table was last checked; AWS changes prices, re-check before
//! relying on a figure).
//!
//! Each price is marked `Verified` when a public page seen with the project's
//! search tool stated it (source given), else `Assumed` (the figure the issue
//! gave or the last one known to the author; the source column says why it was
//! not confirmed). Tiered prices use the first tier unless noted; the model
//! applies the Firehose ingestion tiers itself.

/// Region and date printed with every estimate.
pub const REGION: &str = "us-east-1";
pub const PRICES_AS_OF: &str = "2026-11 (checked 2026-11-23)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Verified,
    Assumed,
}

#[derive(Debug, Clone, Copy)]
pub struct Price {
    pub key: &'static str,
    pub usd: f64,
    pub unit: &'static str,
    pub status: Status,
    pub source: &'static str,
}

use Status::{Assumed, Verified};

pub const TABLE: &[Price] = &[
    // Kinesis Data Streams
    Price { key: "kds.od.stream_hour", usd: 0.04, unit: "per on-demand stream-hour", status: Assumed, source: "issue; aws.amazon.com/kinesis/data-streams/pricing confirms the per-stream hourly charge exists but the seen excerpt had no figure" },
    Price { key: "kds.od.ingest_gb", usd: 0.08, unit: "per GB written (on-demand), each record rounded up to 1 KB", status: Assumed, source: "issue; the 1 KB per-record rounding is Verified (aws.amazon.com/kinesis/data-streams/pricing, 'Data-In')" },
    Price { key: "kds.od.retrieval_gb", usd: 0.04, unit: "per GB read by shared-throughput consumers (Firehose), on-demand", status: Assumed, source: "author's knowledge of the on-demand price list; not confirmed" },
    Price { key: "kds.od.efo_gb", usd: 0.05, unit: "per GB read by an enhanced fan-out consumer, on-demand", status: Assumed, source: "author's knowledge; not confirmed" },
    Price { key: "kds.od.retention_gb_month", usd: 0.10, unit: "per GB-month stored beyond 24 h, up to 7 days (on-demand)", status: Assumed, source: "author's knowledge; not confirmed" },
    Price { key: "kds.shard_hour", usd: 0.015, unit: "per provisioned shard-hour", status: Verified, source: "awsnegotiations.com/kinesis-pricing-optimization (table, us-east-1); issue" },
    Price { key: "kds.put_unit_m", usd: 0.014, unit: "per million PUT payload units (25 KB each)", status: Verified, source: "awsnegotiations.com table ($0.014/M); 25 KB unit definition on aws.amazon.com/kinesis/pricing" },
    Price { key: "kds.retention_shard_hour", usd: 0.02, unit: "per shard-hour, retention 24 h..7 days (provisioned)", status: Verified, source: "awsnegotiations.com table ('Extended retention $0.02 per shard-hour')" },
    Price { key: "kds.efo_consumer_shard_hour", usd: 0.015, unit: "per EFO consumer-shard-hour (provisioned)", status: Verified, source: "awsnegotiations.com table ('Enhanced fan-out $0.015 per shard-hour per consumer'); issue" },
    Price { key: "kds.efo_gb", usd: 0.013, unit: "per GB retrieved by an EFO consumer (provisioned)", status: Assumed, source: "issue; not confirmed" },
    // Lambda (arm64)
    Price { key: "lambda.arm_gb_s", usd: 0.000_013_333_4, unit: "per GB-second, arm64, first 7.5 B GB-s/month", status: Verified, source: "cloudchipr.com/blog/aws-lambda-pricing (US East, ARM first tier); git.mcrn.ar lambda cost notes" },
    Price { key: "lambda.request_m", usd: 0.20, unit: "per million requests", status: Verified, source: "git.mcrn.ar lambda cost notes ($0.20 / 1M, x86 and arm64)" },
    // DynamoDB on-demand
    Price { key: "ddb.wru_m", usd: 0.625, unit: "per million write request units (1 KB each), on-demand", status: Verified, source: "airbyte.com dynamodb-pricing (after the Nov 2024 50% cut, US East)" },
    Price { key: "ddb.rru_m", usd: 0.125, unit: "per million read request units (4 KB strongly consistent), on-demand", status: Verified, source: "airbyte.com dynamodb-pricing (after the Nov 2024 cut)" },
    Price { key: "ddb.storage_gb_month", usd: 0.25, unit: "per GB-month, Standard table class", status: Assumed, source: "author's knowledge; not confirmed" },
    // Firehose
    Price { key: "fh.ingest_gb_t1", usd: 0.029, unit: "per GB ingested, first 500 TB/month, records rounded up to 5 KB", status: Assumed, source: "issue for $0.029; the 5 KB rounding is Verified (aws.amazon.com/kinesis/data-firehose/pricing, de/ja/ru pages)" },
    Price { key: "fh.ingest_gb_t2", usd: 0.025, unit: "per GB ingested, next 1.5 PB/month", status: Assumed, source: "author's knowledge; not confirmed" },
    Price { key: "fh.ingest_gb_t3", usd: 0.020, unit: "per GB ingested, beyond 2 PB/month", status: Assumed, source: "author's knowledge; not confirmed" },
    Price { key: "fh.conversion_gb", usd: 0.018, unit: "per GB ingested for JSON->Parquet, in 5 KB increments", status: Assumed, source: "issue for $0.018; 'billed per GB ingested in 5 KB increments' Verified on the Firehose pricing page (de/ja)" },
    Price { key: "fh.dp_gb", usd: 0.020, unit: "per GB processed by dynamic partitioning", status: Assumed, source: "issue; the page confirms per-GB and per-object charges but the excerpt had no figure" },
    Price { key: "fh.dp_objects_k", usd: 0.005, unit: "per 1 000 S3 objects delivered by dynamic partitioning", status: Assumed, source: "issue" },
    // S3
    Price { key: "s3.standard_gb_month", usd: 0.023, unit: "per GB-month, S3 Standard (first 50 TB)", status: Verified, source: "costnimbus.com s3-storage-classes-cost-guide (US East, March 2026); howtogeek (us-east-1)" },
    Price { key: "s3.ia_gb_month", usd: 0.0125, unit: "per GB-month, Standard-IA", status: Verified, source: "costnimbus.com (US East, March 2026); howtogeek" },
    Price { key: "s3.gir_gb_month", usd: 0.004, unit: "per GB-month, Glacier Instant Retrieval", status: Verified, source: "costnimbus.com (US East, March 2026)" },
    Price { key: "s3.put_k", usd: 0.005, unit: "per 1 000 PUT/COPY/POST/LIST requests (Standard)", status: Assumed, source: "author's knowledge; athena.guide mentions LIST at $5/M (= $0.005/1000), Verified for LIST" },
    Price { key: "s3.get_k", usd: 0.0004, unit: "per 1 000 GET requests (Standard)", status: Verified, source: "athena.guide/articles/athena-basics-pricing-model ('get operations $0.4 per million')" },
    Price { key: "s3.transition_ia_k", usd: 0.01, unit: "per 1 000 lifecycle transitions to Standard-IA", status: Assumed, source: "author's knowledge" },
    Price { key: "s3.transition_gir_k", usd: 0.02, unit: "per 1 000 lifecycle transitions to Glacier IR", status: Assumed, source: "author's knowledge" },
    // Athena
    Price { key: "athena.tb", usd: 5.0, unit: "per TB scanned, 10 MB minimum per query", status: Verified, source: "athena.guide pricing model; rcpedia.stanford.edu/services/athena ($5/TB, 10 MB minimum)" },
    // SQS
    Price { key: "sfn.transition_k", usd: 0.025, unit: "per 1 000 state transitions, Standard workflows", status: Assumed, source: "author's knowledge (Step Functions Standard list price)" },
    Price { key: "sqs.request_m", usd: 0.40, unit: "per million standard-queue requests (64 KB chunks)", status: Verified, source: "cloudburn.io/blog/amazon-sqs-pricing (US East, March 2026: $0.40/M first 100 B); factualminds.com" },
    // CloudWatch
    Price { key: "cw.logs_ingest_gb", usd: 0.50, unit: "per GB of logs ingested (standard class)", status: Verified, source: "factualminds.com cloudwatch pricing (June 2026, $0.50/GB ingestion)" },
    Price { key: "cw.logs_storage_gb_month", usd: 0.03, unit: "per GB-month of logs stored (compressed)", status: Assumed, source: "author's knowledge" },
    Price { key: "cw.alarm_month", usd: 0.10, unit: "per standard-resolution alarm-month", status: Assumed, source: "author's knowledge" },
    Price { key: "cw.dashboard_month", usd: 3.0, unit: "per dashboard-month (beyond 3 free)", status: Verified, source: "factualminds.com cloudwatch pricing (dashboards at $3 each)" },
    Price { key: "cw.metric_month", usd: 0.30, unit: "per custom metric-month (first 10 000; EMF metrics count)", status: Verified, source: "signoz.io/guides/cloudwatch-pricing ($0.30/month for the first 10,000)" },
    // KMS
    Price { key: "kms.key_month", usd: 1.0, unit: "per customer managed key-month", status: Assumed, source: "author's knowledge" },
    Price { key: "kms.request_10k", usd: 0.03, unit: "per 10 000 KMS API requests (GenerateDataKey, Decrypt)", status: Assumed, source: "author's knowledge (AWS KMS list price)" },
    // The ingest edge (issue 14)
    Price { key: "apigw.http_m_300m", usd: 1.00, unit: "per million HTTP API requests, first 300 M/month (512 KB metering)", status: Verified, source: "apigatewaycost.com/aws; amnic.com api-gateway pricing (US East, 2026)" },
    Price { key: "apigw.http_m_1b", usd: 0.90, unit: "per million HTTP API requests, next 700 M/month", status: Verified, source: "apigatewaycost.com/aws; amnic.com (then $0.90/M)" },
    Price { key: "apigw.http_m_over", usd: 0.80, unit: "per million HTTP API requests, over 1 B/month", status: Verified, source: "apigatewaycost.com/aws (over 1B: $0.80/M)" },
    Price { key: "fargate.arm_vcpu_h", usd: 0.03238, unit: "per vCPU-hour, Fargate Linux/ARM", status: Verified, source: "vantage.sh/blog/fargate-pricing (us-east-1 Linux/ARM)" },
    Price { key: "fargate.arm_gb_h", usd: 0.00356, unit: "per GB-hour, Fargate Linux/ARM", status: Verified, source: "vantage.sh/blog/fargate-pricing (us-east-1 Linux/ARM)" },
    Price { key: "alb.hour", usd: 0.0225, unit: "per Application Load Balancer-hour", status: Assumed, source: "author's knowledge (us-east-1; $0.0243 is quoted for other regions)" },
    Price { key: "alb.lcu_h", usd: 0.008, unit: "per LCU-hour (25 new conn/s, 3 000 active conn/min, 1 GB/h to IP targets, 1 000 rule evals/s)", status: Verified, source: "handbook.vantage.sh/aws/services/elb-pricing (LCU dimensions); aws.darcy-it.com (0.008 USD per LCU-hour)" },
    Price { key: "vpce.az_hour", usd: 0.01, unit: "per interface VPC endpoint per AZ-hour", status: Verified, source: "aws.amazon.com/privatelink/pricing (per endpoint per AZ-hour); awsnegotiations.com ($0.01/hour per AZ)" },
    Price { key: "vpce.gb", usd: 0.01, unit: "per GB through interface endpoints (first 1 PB/month)", status: Verified, source: "aws.amazon.com/privatelink/pricing (first 1 PB $0.01)" },
    Price { key: "dto.internet_gb", usd: 0.09, unit: "per GB out to the internet (first 10 TB/month tier)", status: Verified, source: "apigatewaycost.com/aws ($0.09/GB outbound); amnic.com" },
];

/// The price of `key` (panics on a typo: the table is a constant).
pub fn p(key: &str) -> f64 {
    TABLE
        .iter()
        .find(|x| x.key == key)
        .unwrap_or_else(|| panic!("no price {key}"))
        .usd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_prices_positive() {
        let mut keys: Vec<_> = TABLE.iter().map(|x| x.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), TABLE.len());
        assert!(TABLE.iter().all(|x| x.usd > 0.0));
    }
}
