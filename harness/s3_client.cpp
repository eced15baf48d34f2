// S3 requests with libcurl's own SigV4 signer. Two things curl 7.88 needs from us: a
// sub-resource with no value must be written "uploads=" (curl signs "?uploads" as is, S3
// canonicalises it to "uploads=", and the signatures differ), and the payload hash header,
// which curl signs as given: UNSIGNED-PAYLOAD, the body is not hashed.
#include "s3_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace harness {
namespace {

size_t append_body(char* data, size_t size, size_t count, void* target) {
    static_cast<std::string*>(target)->append(data, size * count);
    return size * count;
}

// Content-MD5: base64 of the body's MD5, which S3 requires on PUT ?lifecycle.
std::string content_md5(const std::string& body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(body.data(), body.size(), digest, &length, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("MD5 is not available in this OpenSSL");
    std::string encoded(4 * ((length + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest, static_cast<int>(length));
    encoded.resize(static_cast<std::size_t>(written));
    return encoded;
}

// The text of every <tag>...</tag> inside `block`, in order. ListMultipartUploadsResult is
// flat and its values are XML-escaped keys the registry chose (paths of hex and dashes).
std::vector<std::string> elements(const std::string& block, const std::string& tag) {
    std::vector<std::string> values;
    const std::string open = "<" + tag + ">", close = "</" + tag + ">";
    for (std::size_t at = block.find(open); at != std::string::npos; at = block.find(open, at)) {
        const std::size_t start = at + open.size();
        const std::size_t end = block.find(close, start);
        if (end == std::string::npos) break;
        values.push_back(block.substr(start, end - start));
        at = end + close.size();
    }
    return values;
}

}  // namespace

S3Answer S3Client::request(const std::string& method, const std::string& key, const std::string& query,
                           const std::string& body, const std::vector<std::string>& headers) const {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::string url = bucket_.endpoint + "/" + bucket_.name;
    if (!key.empty()) url += "/" + key;
    if (!query.empty()) url += "?" + query;
    const std::string provider = "aws:amz:" + bucket_.region + ":s3";
    const std::string user = bucket_.access_key + ":" + bucket_.secret_key;
    curl_slist* list = curl_slist_append(nullptr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    for (const auto& header : headers) list = curl_slist_append(list, header.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(list, curl_slist_free_all);
    S3Answer answer;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_AWS_SIGV4, provider.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, user.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    if (method == "PUT" || method == "POST") {
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    const CURLcode done = curl_easy_perform(curl.get());
    if (done != CURLE_OK)
        throw std::runtime_error("S3 " + method + " " + url + ": " + curl_easy_strerror(done));
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &answer.status);
    return answer;
}

void S3Client::create_bucket() const {
    const S3Answer answer = request("PUT", "", "");
    if (answer.status != 200 && answer.body.find("BucketAlreadyOwnedByYou") == std::string::npos)
        throw std::runtime_error("S3 PUT bucket " + bucket_.name + ": HTTP " + std::to_string(answer.status) + " " + answer.body);
}

std::vector<std::string> S3Client::keys(const std::string& prefix) const {
    std::unique_ptr<char, decltype(&curl_free)> escaped(curl_easy_escape(nullptr, prefix.c_str(), static_cast<int>(prefix.size())), curl_free);
    if (!escaped) throw std::runtime_error("curl_easy_escape failed");
    const S3Answer answer = request("GET", "", std::string("prefix=") + escaped.get());
    if (answer.status != 200)
        throw std::runtime_error("S3 list objects: HTTP " + std::to_string(answer.status) + " " + answer.body);
    std::vector<std::string> keys;
    for (const auto& contents : elements(answer.body, "Contents"))
        for (const auto& key : elements(contents, "Key")) keys.push_back(key);
    return keys;
}

std::vector<IncompleteUpload> S3Client::incomplete_uploads() const {
    const S3Answer answer = request("GET", "", "uploads=");
    if (answer.status != 200)
        throw std::runtime_error("S3 list multipart uploads: HTTP " + std::to_string(answer.status) + " " + answer.body);
    std::vector<IncompleteUpload> uploads;
    for (const auto& upload : elements(answer.body, "Upload")) {
        const auto key = elements(upload, "Key");
        const auto id = elements(upload, "UploadId");
        const auto initiated = elements(upload, "Initiated");
        uploads.push_back({key.empty() ? "" : key.front(), id.empty() ? "" : id.front(),
                           initiated.empty() ? "" : initiated.front()});
    }
    return uploads;
}

void S3Client::abort_incomplete_uploads_after(int days) const {
    const std::string rule =
        "<LifecycleConfiguration><Rule><ID>abort-incomplete-uploads</ID><Filter><Prefix></Prefix></Filter>"
        "<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>" +
        std::to_string(days) + "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>";
    const S3Answer answer = request("PUT", "", "lifecycle=", rule, {"Content-MD5: " + content_md5(rule)});
    if (answer.status != 200)
        throw std::runtime_error("S3 PUT lifecycle: HTTP " + std::to_string(answer.status) + " " + answer.body);
}

std::string S3Client::lifecycle() const { return request("GET", "", "lifecycle=").body; }

}  // namespace harness
