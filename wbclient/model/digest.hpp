// Content digests: the "sha256:<hex>" names that address every blob and manifest.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace wbclient {

/// A validated content digest such as "sha256:2cf2...". Only sha256 is accepted, the one
/// algorithm every registry must support.
class Digest {
public:
    /// Throws std::invalid_argument with a one-line reason for anything that is not
    /// "sha256:" followed by 64 lower-case hex characters.
    static Digest parse(std::string_view text);
    /// Whether `text` is a digest parse() accepts: a manifest reference names a digest or a tag.
    static bool is_digest(std::string_view text) {
        try {
            parse(text);
            return true;
        } catch (const std::invalid_argument&) {
            return false;
        }
    }

    const std::string& str() const { return text_; }
    /// The 64 hex characters, as used in storage paths and OCI layouts.
    std::string_view hex() const { return std::string_view(text_).substr(7); }

    friend bool operator==(const Digest&, const Digest&) = default;

private:
    explicit Digest(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

/// Bytes whose digest is not the one they were asked for or announced with: a blob, a
/// manifest or a layout file that changed on the way or at rest. The message is one line.
class DigestMismatch : public std::runtime_error {
public:
    DigestMismatch(const std::string& message, Digest expected, Digest actual)
        : std::runtime_error(message), expected_(std::move(expected)), actual_(std::move(actual)) {}
    const Digest& expected() const { return expected_; }
    /// What the bytes hash to.
    const Digest& actual() const { return actual_; }

private:
    Digest expected_;
    Digest actual_;
};

/// Streaming SHA-256 over OpenSSL's EVP interface: feed bytes as they arrive, never a
/// whole blob in memory.
class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    /// Finishes the hash; the object cannot be updated afterwards.
    Digest finish();

private:
    struct FreeContext {
        void operator()(evp_md_ctx_st* ctx) const;
    };
    std::unique_ptr<evp_md_ctx_st, FreeContext> ctx_;
};

Digest digest_of(std::string_view bytes);
/// Reads the file in fixed-size pieces; throws std::runtime_error if it cannot be read.
Digest digest_of_file(const std::filesystem::path& file);

}  // namespace wbclient
