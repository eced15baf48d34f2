// The few S3 requests the harness and chapter 15 make to the object store the registry
// replicas share (Ceph's radosgw): create the bucket, list the multipart uploads a killed push
// leaves, set a lifecycle rule. Signed by libcurl (CURLOPT_AWS_SIGV4), not by hand.
#pragma once

#include <string>
#include <vector>

namespace harness {

/// Where a bucket is and who may use it: what a registry's storage.s3 section names.
struct S3Bucket {
    std::string endpoint;  ///< "http://127.0.0.1:<port>", path-style
    std::string region = "us-east-1";
    std::string name = "registry";
    std::string access_key;
    std::string secret_key;
};

/// One S3 answer: status and body (XML).
struct S3Answer {
    long status = 0;
    std::string body;
};

/// A multipart upload begun and never completed nor aborted.
struct IncompleteUpload {
    std::string key;
    std::string upload_id;
    std::string initiated;  ///< ISO 8601, as the server says
};

class S3Client {
public:
    explicit S3Client(S3Bucket bucket) : bucket_(std::move(bucket)) {}
    const S3Bucket& bucket() const { return bucket_; }

    /// Any request on the bucket: `query` without '?' ("uploads=", "lifecycle="), its values
    /// already percent-encoded ('/' as %2F: curl signs the query as written); `key` with no
    /// leading '/', or empty for the bucket itself. Throws only when no answer came.
    S3Answer request(const std::string& method, const std::string& key, const std::string& query,
                     const std::string& body = {}, const std::vector<std::string>& headers = {}) const;

    /// PUT /<bucket>; throws unless 200 (or 409 BucketAlreadyOwnedByYou).
    void create_bucket() const;
    /// GET /<bucket>?prefix=<prefix>: the keys under `prefix` (the first 1000); throws unless 200.
    std::vector<std::string> keys(const std::string& prefix) const;
    /// GET /<bucket>?uploads=; throws unless 200.
    std::vector<IncompleteUpload> incomplete_uploads() const;
    /// PUT /<bucket>?lifecycle= with one rule, AbortIncompleteMultipartUpload after `days`
    /// (Content-MD5 included, as S3 requires for this request); throws unless 200.
    void abort_incomplete_uploads_after(int days) const;
    /// GET /<bucket>?lifecycle=: the rules as the server keeps them.
    std::string lifecycle() const;

private:
    S3Bucket bucket_;
};

}  // namespace harness
