// The registry's one real database: the Redis blob-descriptor cache, read with hiredis.
//
// With `storage.cache.blobdescriptor: redis` and `redis.addr`, registry 2.8.2 keeps what it
// learns about each blob in three kinds of keys:
//   blobs::<digest>                        hash  digest, size, mediatype   (any repository)
//   repository::<name>::blobs              set   the digests <name> is known to link
//   repository::<name>::blobs::<digest>    hash  mediatype                 (in <name>)
// It is a cache in front of the storage: filled as blobs are pushed and stat'ed, never the
// only copy of anything, and the registry carries on without it.
#pragma once

#include "wbclient/inspection/storage_layout.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace wbclient {

/// Where a Redis server listens: "host:port", e.g. "127.0.0.1:6379".
struct RedisAddress {
    std::string host;
    unsigned short port = 6379;

    /// Throws std::invalid_argument with a one-line reason for anything but host:port.
    static RedisAddress parse(std::string_view text);
    std::string str() const { return host + ":" + std::to_string(port); }
};

/// Redis could not be reached, did not answer in time, or answered with an error.
class RedisError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One reply, freed when it goes out of scope.
struct FreeRedisReply {
    void operator()(redisReply* reply) const;
};
using RedisReplyPtr = std::unique_ptr<redisReply, FreeRedisReply>;

/// One connection to one Redis server. Every call waits at most `timeout`; a server that
/// accepts the connection and then says nothing is an error, not a hang.
class RedisConnection {
public:
    explicit RedisConnection(const RedisAddress& address,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

    const RedisAddress& address() const { return address_; }

    /// Sends one command (each argument binary-safe) and returns the reply. Throws RedisError
    /// for a connection that failed or timed out, and for an error reply ("WRONGTYPE ...").
    RedisReplyPtr command(const std::vector<std::string>& argv);

    /// PING, expecting PONG: is this a Redis server at all?
    void ping();
    /// Every key matching `pattern`, via SCAN (unlike KEYS, it never blocks the server for
    /// long), sorted.
    std::vector<std::string> keys(std::string_view pattern);
    /// TYPE: "string", "hash", "set", ... or "none".
    std::string type(std::string_view key);
    /// HGETALL: a hash's fields and values.
    std::map<std::string, std::string> hash(std::string_view key);
    /// SMEMBERS: a set's members, sorted.
    std::set<std::string> set_members(std::string_view key);

private:
    struct FreeContext {
        void operator()(redisContext* context) const;
    };
    [[noreturn]] void fail(std::string_view what) const;

    RedisAddress address_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<redisContext, FreeContext> context_;
};

/// What `blobs::<digest>` says about a blob.
struct CachedBlobDescriptor {
    std::string digest;      ///< the "digest" field (equal to the key's digest)
    std::uint64_t size = 0;  ///< the "size" field
    std::string media_type;  ///< the "mediatype" field; 2.8.2 writes application/octet-stream
};

/// The whole blob-descriptor cache, read key by key.
struct BlobDescriptorCache {
    /// `blobs::<digest>`, by digest.
    std::map<std::string, CachedBlobDescriptor> blobs;
    /// `repository::<name>::blobs`: by repository, the digests it is known to link.
    std::map<std::string, std::set<std::string>> repository_blobs;
    /// `repository::<name>::blobs::<digest>`: by repository and digest, the mediatype field.
    std::map<std::string, std::map<std::string, std::string>> repository_media_types;
    /// Keys that fit none of the three patterns (another program's data in the same Redis).
    std::vector<std::string> other_keys;

    std::size_t key_count() const;
};

/// Reads every key of the registry's scheme. Throws RedisError if a key holds the wrong type
/// or a descriptor misses a field, naming the key.
BlobDescriptorCache read_blob_descriptor_cache(RedisConnection& redis);

/// One key of the cache, beside what the storage says about the same blob.
struct CacheKeyReport {
    std::string key;
    /// What the key holds and how the storage compares, e.g. "hash: size 407, mediatype
    /// application/octet-stream; the data file: the same size".
    std::string text;
    /// The storage disagrees: a cache may lag behind it (garbage collection never touches
    /// Redis), so this is a finding, not an error.
    bool stale = false;
};

/// Checks each key against the storage: a blob's size against its data file, a repository's
/// set against its _layers links. Sorted by key.
std::vector<CacheKeyReport> compare_with_storage(const BlobDescriptorCache& cache, const StorageLayout& storage);

}  // namespace wbclient
