use super::*;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_kinesis::operation::put_records::PutRecordsError;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

fn raw(status: u16) -> Response {
    Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
}

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message("from the service")
        .build()
}

/// A DynamoDB PutItem error as the SDK deserialises it: code in the metadata.
fn dynamo(code: &str, status: u16) -> SdkError<PutItemError, Response> {
    SdkError::service_error(PutItemError::generic(meta(code)), raw(status))
}

fn kinesis(code: &str, status: u16) -> SdkError<PutRecordsError, Response> {
    SdkError::service_error(PutRecordsError::generic(meta(code)), raw(status))
}

fn sqs(code: &str, status: u16) -> SdkError<SendMessageBatchError, Response> {
    SdkError::service_error(SendMessageBatchError::generic(meta(code)), raw(status))
}

fn sns(code: &str, status: u16) -> SdkError<PublishError, Response> {
    SdkError::service_error(PublishError::generic(meta(code)), raw(status))
}

#[test]
fn throttles_conflicts_and_server_errors_are_retriable() {
    for code in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
    ] {
        assert_eq!(classify(&dynamo(code, 400)), Retry::Retriable, "{code}");
    }
    assert_eq!(
        classify(&dynamo("InternalServerError", 500)),
        Retry::Retriable
    );
    assert_eq!(classify(&dynamo("Whatever", 503)), Retry::Retriable);
    assert_eq!(classify(&dynamo("Whatever", 429)), Retry::Retriable);
    for code in [
        "ProvisionedThroughputExceededException",
        "KMSThrottlingException",
        "LimitExceededException",
    ] {
        assert_eq!(classify(&kinesis(code, 400)), Retry::Retriable, "{code}");
    }
    assert_eq!(classify(&sqs("RequestThrottled", 403)), Retry::Retriable);
    assert_eq!(classify(&sqs("KmsThrottled", 400)), Retry::Retriable);
    assert_eq!(classify(&sns("Throttled", 400)), Retry::Retriable);
    assert_eq!(classify(&sns("KMSThrottling", 400)), Retry::Retriable);
    assert_eq!(classify(&sns("InternalError", 500)), Retry::Retriable);
}

#[test]
fn permission_missing_resource_and_bad_input_are_not() {
    for code in [
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ResourceNotFoundException",
        "ValidationException",
        "ItemCollectionSizeLimitExceededException",
    ] {
        assert_eq!(classify(&dynamo(code, 400)), Retry::NonRetriable, "{code}");
    }
    for code in [
        "KMSDisabledException",
        "KMSNotFoundException",
        "KMSAccessDeniedException",
        "KMSInvalidStateException",
        "ResourceNotFoundException",
        "InvalidArgumentException",
        "AccessDeniedException",
    ] {
        assert_eq!(classify(&kinesis(code, 400)), Retry::NonRetriable, "{code}");
    }
    for code in [
        "AWS.SimpleQueueService.NonExistentQueue",
        "KmsDisabled",
        "KmsNotFound",
        "AccessDenied",
    ] {
        assert_eq!(classify(&sqs(code, 400)), Retry::NonRetriable, "{code}");
    }
    for code in [
        "AuthorizationError",
        "NotFound",
        "KMSDisabled",
        "InvalidParameter",
    ] {
        assert_eq!(classify(&sns(code, 400)), Retry::NonRetriable, "{code}");
    }
}

#[test]
fn transport_failures_follow_the_sdk_transient_classes() {
    let timeout: SdkError<PutItemError, Response> = SdkError::timeout_error("deadline");
    assert_eq!(classify(&timeout), Retry::Retriable);
    let io: SdkError<PutItemError, Response> =
        SdkError::dispatch_failure(ConnectorError::io("connection reset".into()));
    assert_eq!(classify(&io), Retry::Retriable);
    let connect_timeout: SdkError<PutItemError, Response> =
        SdkError::dispatch_failure(ConnectorError::timeout("connect".into()));
    assert_eq!(classify(&connect_timeout), Retry::Retriable);
    let user: SdkError<PutItemError, Response> =
        SdkError::dispatch_failure(ConnectorError::user("invalid URI".into()));
    assert_eq!(classify(&user), Retry::NonRetriable);
    let truncated: SdkError<PutItemError, Response> =
        SdkError::response_error("unexpected end of body", raw(200));
    assert_eq!(classify(&truncated), Retry::Retriable);
    let unbuildable: SdkError<PutItemError, Response> =
        SdkError::construction_failure("missing table name");
    assert_eq!(classify(&unbuildable), Retry::NonRetriable);
}

#[test]
fn the_port_error_keeps_the_sdk_error_as_its_source() {
    let e = port_error("features.save", dynamo("AccessDeniedException", 400));
    assert!(!e.is_retriable());
    assert_eq!(
        e.to_string(),
        "features.save failed (non-retriable, AccessDeniedException)"
    );
    let source = std::error::Error::source(&e).expect("a source");
    let sdk = source
        .downcast_ref::<SdkError<PutItemError, Response>>()
        .expect("the SDK error itself");
    assert_eq!(sdk.code(), Some("AccessDeniedException"));
    let chain = playback_domain::ports::Chain(&e).to_string();
    assert!(chain.contains("from the service"), "{chain}");

    let e = port_error("windows.flush", dynamo("ThrottlingException", 400));
    assert!(e.is_retriable());
}

#[test]
fn conditional_check_failures_are_recognised_by_code() {
    assert!(has_code(
        &dynamo("ConditionalCheckFailedException", 400),
        "ConditionalCheckFailedException"
    ));
    assert!(!has_code(
        &dynamo("ValidationException", 400),
        "ConditionalCheckFailedException"
    ));
}
