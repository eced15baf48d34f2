#include "wbclient/inspection/redis_cache.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace wbclient {
namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
    return {.tv_sec = static_cast<time_t>(timeout.count() / 1000),
            .tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
}

std::string reply_text(const redisReply& reply) { return std::string(reply.str, reply.len); }

bool starts_with_then(std::string_view text, std::string_view prefix, std::string_view& rest) {
    if (!text.starts_with(prefix)) return false;
    rest = text.substr(prefix.size());
    return true;
}

}  // namespace

RedisAddress RedisAddress::parse(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        throw std::invalid_argument("'" + std::string(text) + "' is not a Redis address: expected host:port");
    const std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        throw std::invalid_argument("Redis port '" + std::string(port_text) + "' is not a number from 1 to 65535");
    return {.host = std::string(text.substr(0, colon)), .port = static_cast<unsigned short>(port)};
}

void FreeRedisReply::operator()(redisReply* reply) const { freeReplyObject(reply); }
void RedisConnection::FreeContext::operator()(redisContext* context) const { redisFree(context); }

RedisConnection::RedisConnection(const RedisAddress& address, std::chrono::milliseconds timeout)
    : address_(address), timeout_(timeout) {
    context_.reset(redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(timeout_)));
    if (!context_) throw RedisError("Redis at " + address_.str() + ": out of memory");
    if (context_->err) fail("cannot connect");
    // The connect timeout covers connecting only; this one covers every reply after it.
    if (redisSetTimeout(context_.get(), to_timeval(timeout_)) != REDIS_OK) fail("cannot set a timeout");
}

void RedisConnection::fail(std::string_view what) const {
    const int error_number = errno;
    std::string reason = context_->errstr;
    // hiredis reports a timeout as an I/O error; say what it means.
    if (context_->err == REDIS_ERR_IO &&
        (error_number == EAGAIN || error_number == EWOULDBLOCK || error_number == ETIMEDOUT))
        reason = "no answer within " + std::to_string(timeout_.count()) + " ms (" + reason + ")";
    if (context_->err == REDIS_ERR_PROTOCOL) reason += " (is this a Redis server?)";
    throw RedisError("Redis at " + address_.str() + ": " + std::string(what) + ": " + reason);
}

RedisReplyPtr RedisConnection::command(const std::vector<std::string>& argv) {
    std::vector<const char*> arguments;
    std::vector<std::size_t> lengths;
    for (const auto& argument : argv) {
        arguments.push_back(argument.data());
        lengths.push_back(argument.size());
    }
    errno = 0;
    RedisReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(context_.get(), static_cast<int>(argv.size()), arguments.data(), lengths.data())));
    if (!reply) fail(argv.empty() ? "empty command" : argv.front());
    if (reply->type == REDIS_REPLY_ERROR)
        throw RedisError("Redis at " + address_.str() + ": " + argv.front() + ": " + reply_text(*reply));
    return reply;
}

void RedisConnection::ping() {
    const RedisReplyPtr reply = command({"PING"});
    if (reply->type != REDIS_REPLY_STATUS || reply_text(*reply) != "PONG")
        throw RedisError("Redis at " + address_.str() + ": PING was not answered with PONG");
}

std::vector<std::string> RedisConnection::keys(std::string_view pattern) {
    std::vector<std::string> found;
    std::string cursor = "0";
    do {
        const RedisReplyPtr reply = command({"SCAN", cursor, "MATCH", std::string(pattern), "COUNT", "100"});
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
            throw RedisError("Redis at " + address_.str() + ": SCAN answered with something other than [cursor, keys]");
        cursor = reply_text(*reply->element[0]);
        const redisReply& batch = *reply->element[1];
        for (std::size_t i = 0; i < batch.elements; ++i) found.push_back(reply_text(*batch.element[i]));
    } while (cursor != "0");
    // SCAN may return a key twice, and in no particular order.
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

std::string RedisConnection::type(std::string_view key) {
    return reply_text(*command({"TYPE", std::string(key)}));
}

std::map<std::string, std::string> RedisConnection::hash(std::string_view key) {
    const RedisReplyPtr reply = command({"HGETALL", std::string(key)});
    std::map<std::string, std::string> fields;
    for (std::size_t i = 0; i + 1 < reply->elements; i += 2)
        fields[reply_text(*reply->element[i])] = reply_text(*reply->element[i + 1]);
    return fields;
}

std::set<std::string> RedisConnection::set_members(std::string_view key) {
    const RedisReplyPtr reply = command({"SMEMBERS", std::string(key)});
    std::set<std::string> members;
    for (std::size_t i = 0; i < reply->elements; ++i) members.insert(reply_text(*reply->element[i]));
    return members;
}

std::size_t BlobDescriptorCache::key_count() const {
    std::size_t count = blobs.size() + repository_blobs.size() + other_keys.size();
    for (const auto& [repository, media_types] : repository_media_types) count += media_types.size();
    return count;
}

BlobDescriptorCache read_blob_descriptor_cache(RedisConnection& redis) {
    BlobDescriptorCache cache;
    auto field = [&](const std::map<std::string, std::string>& fields, const std::string& key, const char* name) {
        const auto found = fields.find(name);
        if (found == fields.end())
            throw RedisError("Redis at " + redis.address().str() + ": " + key + " has no field '" + name + "'");
        return found->second;
    };
    for (const std::string& key : redis.keys("*")) {
        std::string_view rest;
        if (starts_with_then(key, "blobs::", rest)) {
            const auto fields = redis.hash(key);
            const std::string size = field(fields, key, "size");
            CachedBlobDescriptor blob{.digest = field(fields, key, "digest"), .media_type = field(fields, key, "mediatype")};
            const auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), blob.size);
            if (error != std::errc() || end != size.data() + size.size())
                throw RedisError("Redis at " + redis.address().str() + ": " + key + " has size '" + size + "'");
            cache.blobs.emplace(std::string(rest), std::move(blob));
        } else if (starts_with_then(key, "repository::", rest) && rest.find("::blobs") != std::string_view::npos) {
            // Repository names cannot contain "::", so the first "::blobs" ends the name.
            const auto end_of_name = rest.find("::blobs");
            const std::string repository(rest.substr(0, end_of_name));
            const std::string_view after = rest.substr(end_of_name + 7);
            if (after.empty()) {
                cache.repository_blobs[repository] = redis.set_members(key);
            } else if (starts_with_then(after, "::", rest)) {
                cache.repository_media_types[repository][std::string(rest)] =
                    field(redis.hash(key), key, "mediatype");
            } else {
                cache.other_keys.push_back(key);
            }
        } else {
            cache.other_keys.push_back(key);
        }
    }
    return cache;
}

std::vector<CacheKeyReport> compare_with_storage(const BlobDescriptorCache& cache, const StorageLayout& storage) {
    std::vector<CacheKeyReport> reports;
    for (const auto& [digest, blob] : cache.blobs) {
        const auto stored = storage.blob(Digest::parse(digest));
        const bool same = stored && stored->size == blob.size && blob.digest == digest;
        reports.push_back({"blobs::" + digest,
                           "hash: size " + std::to_string(blob.size) + ", mediatype " + blob.media_type +
                               (same ? "; the data file: the same size" : "; STALE: the storage differs"),
                           !same});
    }
    const auto names = storage.repository_names();
    for (const auto& [repository, members] : cache.repository_blobs) {
        std::vector<Digest> linked;
        if (std::find(names.begin(), names.end(), repository) != names.end()) linked = storage.repository(repository).layers;
        std::string unlinked;
        for (const auto& digest : members)
            if (std::none_of(linked.begin(), linked.end(), [&](const Digest& d) { return d.str() == digest; }))
                unlinked += (unlinked.empty() ? "" : ", ") + digest;
        reports.push_back({"repository::" + repository + "::blobs",
                           "set of " + std::to_string(members.size()) + "; " +
                               (unlinked.empty() ? "each linked in " + repository + "/_layers"
                                                 : "STALE: not linked: " + unlinked),
                           !unlinked.empty()});
    }
    for (const auto& [repository, media_types] : cache.repository_media_types)
        for (const auto& [digest, media_type] : media_types)
            reports.push_back({"repository::" + repository + "::blobs::" + digest, "hash: mediatype " + media_type});
    for (const auto& key : cache.other_keys) reports.push_back({key, "not one of the registry's keys"});
    std::sort(reports.begin(), reports.end(),
              [](const CacheKeyReport& a, const CacheKeyReport& b) { return a.key < b.key; });
    return reports;
}

}  // namespace wbclient
