#include "wbclient/model/digest.hpp"

#include "wbclient/model/text.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <stdexcept>

namespace wbclient {

Digest Digest::parse(std::string_view text) {
    constexpr std::string_view prefix = "sha256:";
    if (!text.starts_with(prefix)) {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos)
            throw std::invalid_argument("invalid digest '" + printable(text) +
                                        "': expected sha256:<64 hex characters>");
        throw std::invalid_argument("unsupported digest algorithm '" +
                                    printable(text.substr(0, colon)) + "' (only sha256)");
    }
    const auto hex = text.substr(prefix.size());
    const bool well_formed =
        hex.size() == 64 &&
        hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    if (!well_formed)
        throw std::invalid_argument("invalid digest '" + printable(text) +
                                    "': expected sha256:<64 lower-case hex characters>");
    return Digest(std::string(text));
}

void Sha256::FreeContext::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

namespace {

// OpenSSL 3 looks EVP_sha256() up in its provider tables at every EVP_DigestInit_ex (a lock,
// a hash-table search, a reference count): measurable on a small body. Fetched once instead.
const EVP_MD* sha256_algorithm() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    static const EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched) return fetched;
#endif
    return EVP_sha256();
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), sha256_algorithm(), nullptr) != 1)
        throw std::runtime_error("OpenSSL could not start a SHA-256 context");
}

void Sha256::update(const void* data, std::size_t size) {
    if (!ctx_) throw std::logic_error("Sha256::update after finish");
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1)
        throw std::runtime_error("OpenSSL SHA-256 update failed");
}

Digest Sha256::finish() {
    if (!ctx_) throw std::logic_error("Sha256::finish called twice");
    std::array<unsigned char, EVP_MAX_MD_SIZE> raw{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), raw.data(), &length) != 1)
        throw std::runtime_error("OpenSSL SHA-256 final failed");
    ctx_.reset();
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::string text = "sha256:";
    for (unsigned int i = 0; i < length; ++i) {
        text += hex_digits[raw[i] >> 4];
        text += hex_digits[raw[i] & 0x0f];
    }
    return Digest::parse(text);
}

Digest digest_of(std::string_view bytes) {
    Sha256 hash;
    hash.update(bytes);
    return hash.finish();
}

Digest digest_of_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + file.string());
    Sha256 hash;
    std::array<char, 1 << 16> buffer{};
    while (in) {
        in.read(buffer.data(), buffer.size());
        hash.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw std::runtime_error("error reading " + file.string());
    return hash.finish();
}

}  // namespace wbclient
