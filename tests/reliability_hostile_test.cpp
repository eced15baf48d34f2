// Hostile input, broken registries, tampered storage and hostile layers (issue 6): one table
// of cases, each run through the chapter program a reader would run (or, for layers no
// program extracts, through the library call). Every case must end in exit code 1 with one
// line on stderr that names what went wrong, quickly, with nothing half-written left behind
// and the real registry's data intact.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"
#include "test_support.hpp"
#include "workspace.hpp"

#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/image/layer_reader.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace fs = std::filesystem;
using harness::ScriptedRequest;
using harness::ScriptedResponse;
using Delivery = ScriptedResponse::Delivery;
using nlohmann::json;
namespace media_type = wbclient::media_type;

namespace {

constexpr std::uint64_t ten_gigabytes = 10ULL * 1024 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Scripted answers

ScriptedResponse json_error(unsigned status, const std::string& code) {
    return {.status = status,
            .headers = {{"Content-Type", "application/json; charset=utf-8"}},
            .body = json{{"errors", {{{"code", code}, {"message", "scripted " + code}, {"detail", nullptr}}}}}
                        .dump() + "\n"};
}

ScriptedResponse plain(unsigned status, std::string body, std::string content_type = "text/html") {
    return {.status = status, .headers = {{"Content-Type", std::move(content_type)}}, .body = std::move(body)};
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// A registry in memory, enough of the API for a copy, a pull and a push to go through.
// Manifests are kept by tag or digest, for every repository alike.
class FakeRegistry {
public:
    void add_blob(const std::string& bytes) {
        std::lock_guard lock(mutex_);
        blobs_[wbclient::digest_of(bytes).str()] = bytes;
    }
    // Stores `bytes` under `tag` (and its digest); returns the digest.
    std::string add_manifest(const std::string& tag, const std::string& content_type, const std::string& bytes) {
        std::lock_guard lock(mutex_);
        const std::string digest = wbclient::digest_of(bytes).str();
        manifests_[tag] = manifests_[digest] = {content_type, bytes};
        return digest;
    }

    ScriptedResponse operator()(const ScriptedRequest& request) {
        std::lock_guard lock(mutex_);
        const std::string path = path_of(request.target);
        if (path == "/v2/" || path == "/v2")
            return {.headers = {{"Docker-Distribution-Api-Version", "registry/2.0"},
                                {"Content-Type", "application/json"}},
                    .body = "{}"};
        if (const auto at = path.find("/manifests/"); at != std::string::npos) {
            const std::string reference = path.substr(at + 11);
            if (request.method == "PUT") {
                const std::string digest = wbclient::digest_of(request.body).str();
                manifests_[reference] = manifests_[digest] = {request.header("Content-Type"), request.body};
                return {.status = 201, .headers = {{"Docker-Content-Digest", digest}, {"Location", path}}};
            }
            const auto found = manifests_.find(reference);
            if (found == manifests_.end()) return json_error(404, "MANIFEST_UNKNOWN");
            const std::string digest = wbclient::digest_of(found->second.second).str();
            if (request.header("If-None-Match") == "\"" + digest + "\"") return {.status = 304};
            return {.headers = {{"Content-Type", found->second.first},
                                {"Docker-Content-Digest", digest},
                                {"Etag", "\"" + digest + "\""}},
                    .body = found->second.second};
        }
        if (path.find("/blobs/uploads/") != std::string::npos) {
            if (request.method == "POST")
                return {.status = 202,
                        .headers = {{"Location", path.substr(0, path.find("/uploads/") + 9) + "session-1"},
                                    {"Docker-Upload-Uuid", "session-1"}}};
            if (request.method == "PUT") {
                blobs_[wbclient::digest_of(request.body).str()] = request.body;
                return {.status = 201};
            }
        }
        if (const auto at = path.find("/blobs/"); at != std::string::npos) {
            const auto found = blobs_.find(path.substr(at + 7));
            if (found == blobs_.end()) return json_error(404, "BLOB_UNKNOWN");
            // "Range: bytes=0-1", the only range a chapter asks for, as chapter 02 does.
            if (request.header("Range") == "bytes=0-1")
                return {.status = 206,
                        .headers = {{"Content-Range", "bytes 0-1/" + std::to_string(found->second.size())}},
                        .body = found->second.substr(0, 2)};
            return {.headers = {{"Content-Type", "application/octet-stream"}, {"Docker-Content-Digest", found->first}},
                    .body = found->second};
        }
        return json_error(404, "NAME_UNKNOWN");
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::string> blobs_;
    std::map<std::string, std::pair<std::string, std::string>> manifests_;
};

// The fake registry, except that requests `method` whose path contains `part` get the
// normal answer changed by `change`.
using Change = std::function<ScriptedResponse(ScriptedResponse)>;
harness::RequestHandler except(const std::shared_ptr<FakeRegistry>& fake, std::string method, std::string part,
                               Change change) {
    return [=](const ScriptedRequest& request) {
        ScriptedResponse normal = (*fake)(request);
        if (request.method == method && path_of(request.target).find(part) != std::string::npos)
            return change(std::move(normal));
        return normal;
    };
}
Change replace_with(ScriptedResponse answer) {
    return [answer](ScriptedResponse) { return answer; };
}
Change flip_byte(std::size_t at) {
    return [at](ScriptedResponse r) {
        r.body[std::min(at, r.body.size() - 1)] ^= 0x20;
        return r;
    };
}
// A Content-Length that lies: the body is cut (shorter) or promised longer than it is.
Change lying_length(long difference, Delivery delivery = Delivery::close_after) {
    return [=](ScriptedResponse r) {
        r.headers.emplace_back("Content-Length", std::to_string(static_cast<long>(r.body.size()) + difference));
        r.delivery = delivery;
        return r;
    };
}
Change stall_after(std::size_t bytes) {
    return [=](ScriptedResponse r) {
        r.delivery = Delivery::stall_after;
        r.body_bytes = bytes;
        return r;
    };
}
Change never_answer() {
    return [](ScriptedResponse r) {
        r.delivery = Delivery::never_answer;
        return r;
    };
}
// Redirects to `location`, which the same change answers again.
Change redirect_loop(std::string location) {
    return [location](ScriptedResponse) { return ScriptedResponse{.status = 307, .headers = {{"Location", location}}}; };
}
harness::RequestHandler fake_handler(const std::shared_ptr<FakeRegistry>& fake) {
    return [fake](const ScriptedRequest& request) { return (*fake)(request); };
}
// Only this request is answered (/v2/loop/here redirects to itself as well).
harness::RequestHandler always(ScriptedResponse answer) {
    return [answer](const ScriptedRequest&) { return answer; };
}

// ---------------------------------------------------------------------------------------
// Layers built with libarchive

struct TarEntry {
    std::string path;
    unsigned type = AE_IFREG;
    std::string content;
    std::string symlink;   // for AE_IFLNK
    std::string hardlink;  // a hard link to this path
    std::uint64_t zeros = 0;  // a file of this many zero bytes instead of `content`
};

std::string build_tar_gz(const std::vector<TarEntry>& entries, bool gzip = true) {
    std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(), &archive_write_free);
    REQUIRE(writer);
    archive_write_set_format_pax_restricted(writer.get());
    if (gzip) archive_write_add_filter_gzip(writer.get());
    archive_write_set_bytes_in_last_block(writer.get(), 1);
    std::string out;
    const auto write_callback = [](archive*, void* data, const void* buffer, std::size_t length) -> la_ssize_t {
        static_cast<std::string*>(data)->append(static_cast<const char*>(buffer), length);
        return static_cast<la_ssize_t>(length);
    };
    REQUIRE(archive_write_open(writer.get(), &out, nullptr, write_callback, nullptr) == ARCHIVE_OK);
    for (const TarEntry& e : entries) {
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(entry.get(), e.path.c_str());
        archive_entry_set_filetype(entry.get(), e.type);
        archive_entry_set_perm(entry.get(), 0644);
        const std::uint64_t size = e.type == AE_IFREG && e.hardlink.empty() ? (e.zeros ? e.zeros : e.content.size()) : 0;
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
        if (!e.symlink.empty()) archive_entry_set_symlink(entry.get(), e.symlink.c_str());
        if (!e.hardlink.empty()) archive_entry_set_hardlink(entry.get(), e.hardlink.c_str());
        if (e.type == AE_IFCHR || e.type == AE_IFBLK) archive_entry_set_rdev(entry.get(), 0x0101);
        REQUIRE(archive_write_header(writer.get(), entry.get()) == ARCHIVE_OK);
        if (e.zeros) {
            const std::string block(1 << 20, '\0');
            for (std::uint64_t left = e.zeros; left > 0;) {
                const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, block.size()));
                REQUIRE(archive_write_data(writer.get(), block.data(), n) == static_cast<la_ssize_t>(n));
                left -= n;
            }
        } else if (size > 0) {
            REQUIRE(archive_write_data(writer.get(), e.content.data(), e.content.size()) ==
                    static_cast<la_ssize_t>(e.content.size()));
        }
    }
    REQUIRE(archive_write_close(writer.get()) == ARCHIVE_OK);
    return out;
}

void write_file(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary);
    REQUIRE((out << bytes).flush());
}

// A Docker schema2 image of one layer with exactly these bytes, pushed as repository:latest.
void push_image_with_layer(wbclient::RegistryClient& registry, const std::string& repository,
                           const std::string& layer_bytes, const fs::path& folder) {
    const fs::path file = folder / (repository + ".layer");
    write_file(file, layer_bytes);
    wbclient::BuiltLayer layer{.file = file,
                                .blob = wbclient::descriptor_of(media_type::docker_layer_gzip, layer_bytes),
                                .diff_id = wbclient::digest_of(layer_bytes)};
    const wbclient::BuiltImage image = wbclient::assemble_image(
        {.format = wbclient::ImageFormat::docker_schema2, .cmd = {"/hello"}}, {{layer, "hostile"}});
    wbclient::push_image(registry, wbclient::Reference::parse(registry.base_url().substr(7) + "/" + repository),
                          image);
}

// ---------------------------------------------------------------------------------------
// The cases

// One run of a chapter program. In `args` and `env`, {fake} is a well-behaved fake registry,
// {server} this case's scripted server, {catcher} a server no request should reach, and
// {registry} the real registry.
struct ProgramCase {
    std::string name;
    std::string program;
    std::vector<std::string> args;
    std::string reason;  // what the error must name
    harness::RequestHandler server = {};
    std::map<std::string, std::string> env = {};
    std::function<void()> before = {};  // e.g. tamper with the registry's storage
    std::function<void()> after = {};   // and undo it
    double max_seconds = 15;
};

// One call into the library for what no chapter program does with foreign data.
struct LibraryCase {
    std::string name;
    std::function<void(const fs::path& folder)> call;  // runs in an empty folder of its own
    std::string reason;
    std::vector<std::string> must_not_exist = {};      // relative to the folder's parent, or absolute
};

// How long a case's program may run before it is killed: just past the moment it should have
// failed. A case that sets a stall timeout fails soon after it: the library sees a body that
// stops mid-way as stalled only after up to four stall periods (measured: 8 s for 2 s), so
// the deadline is that and a margin. A library whose stall timeout is broken then fails that
// case by name within seconds, not at ctest's 600 s limit with no name. Any other case is
// killed a margin after the max_seconds it is allowed.
std::chrono::seconds program_deadline(const ProgramCase& c) {
    constexpr int margin_seconds = 5;
    constexpr int stall_periods = 4;
    if (const auto stall = c.env.find("WORKBOOK_STALL_SECONDS"); stall != c.env.end())
        return std::chrono::seconds(stall_periods * std::stoi(stall->second) + margin_seconds);
    return std::chrono::seconds(static_cast<int>(std::ceil(c.max_seconds)) + margin_seconds);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// Every file the case left in its workspace, except the transcripts the harness writes.
std::vector<std::string> leftovers(const fs::path& folder) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(folder))
        if (!entry.path().filename().string().ends_with(".transcript.jsonl"))
            found.push_back(entry.path().filename().string());
    return found;
}

}  // namespace

TEST_CASE("hostile input, broken registries, tampered storage and hostile layers fail cleanly",
          "[reliability]") {
    harness::Workspace workspace("reliability-hostile");
    const auto registry = harness::start_registry({.role = "registry"}, workspace.path());
    const std::string real = registry->host_port();
    wbclient::RegistryClient client(real);
    client.http().set_user_agent(harness::harness_user_agent);
    const wbclient::Digest seeded = harness::seed_busybox(client, "my-busybox", "latest");
    harness::seed_busybox(client, "victim", "latest");
    const wbclient::FetchedManifest busybox = client.get_manifest("my-busybox", "latest");
    const wbclient::Descriptor config = *busybox.parsed.config;
    const wbclient::Descriptor layer = busybox.parsed.layers.at(0);

    // Hostile layers on the real registry, for chapter 02, which lists any image's layer.
    const fs::path layers = workspace.path() / "layers";
    fs::create_directories(layers);
    const std::string good_layer = build_tar_gz({{.path = "hello", .content = "hello\n"}});
    push_image_with_layer(client, "not-gzip", "this is not a gzipped tar\n", layers);
    push_image_with_layer(client, "truncated-gzip", good_layer.substr(0, good_layer.size() / 2), layers);
    push_image_with_layer(client, "gzip-bomb", build_tar_gz({{.path = "zeros", .zeros = (1ULL << 30) + (64 << 20)}}),
                          layers);

    // The fake registry holds busybox as my-busybox:latest, and hostile manifests by tag.
    auto fake = std::make_shared<FakeRegistry>();
    {
        std::string bytes;
        client.fetch_blob("my-busybox", config, [&](const char* d, std::size_t n) { bytes.append(d, n); });
        fake->add_blob(bytes);
        bytes.clear();
        client.fetch_blob("my-busybox", layer, [&](const char* d, std::size_t n) { bytes.append(d, n); });
        fake->add_blob(bytes);
    }
    fake->add_manifest("latest", busybox.media_type, busybox.bytes);
    const json manifest = json::parse(busybox.bytes);
    const std::string docker = std::string(media_type::docker_manifest);
    const auto variant = [&](const std::string& tag, const std::function<void(json&)>& change,
                             std::string content_type = "") {
        json changed = manifest;
        change(changed);
        fake->add_manifest(tag, content_type.empty() ? docker : content_type, changed.dump(3));
    };
    variant("no-config", [](json& m) { m.erase("config"); });
    variant("no-layer-digest", [](json& m) { m["layers"][0].erase("digest"); });
    variant("string-size", [](json& m) { m["layers"][0]["size"] = "1024"; });
    variant("negative-size", [](json& m) { m["layers"][0]["size"] = -1; });
    variant("no-layers", [](json& m) { m.erase("layers"); });
    variant("no-media-type", [](json& m) { m.erase("mediaType"); });
    variant("bad-layer-digest", [](json& m) { m["layers"][0]["digest"] = "sha256:1234"; });
    variant("contradiction", [](json&) {}, std::string(media_type::oci_index));
    variant("huge-layer", [&](json& m) { m["layers"][0]["size"] = ten_gigabytes; });
    variant("huge-config", [&](json& m) { m["config"]["size"] = ten_gigabytes; });
    fake->add_manifest("not-json", docker, "<html><body>Welcome to nginx!</body></html>\n");
    fake->add_manifest("truncated-json", docker, busybox.bytes.substr(0, busybox.bytes.size() / 2));
    fake->add_manifest("array", docker, "[1, 2, 3]");
    harness::ScriptedServer fake_server([fake](const ScriptedRequest& r) { return (*fake)(r); });

    const auto flip_in_storage = [&](const wbclient::Digest& digest, std::size_t at) {
        return [&registry, digest, at] { test_support::flip_byte(registry->blob_data(digest), at); };
    };
    // A byte inside a media type's letters: the manifest stays valid JSON.
    const std::size_t in_manifest = busybox.bytes.find("vnd.docker") + 4;
    const std::string by_digest = real + "/victim@" + seeded.str();
    const std::map<std::string, std::string> stall_env{{"WORKBOOK_STALL_SECONDS", "2"}};
    const std::string huge = std::to_string(ten_gigabytes);

    const std::string c00 = "00_run_a_registry", c01 = "01_rehost_busybox", c02 = "02_anatomy_of_an_image",
                      c03 = "03_build_push_pull_run", c04 = "04_tour_of_the_api", c05 = "05_base_and_extending_images",
                      c07 = "07_delete_and_garbage_collect", c09 = "09_multi_platform_images",
                      c10 = "10_authentication_and_tls";
    const std::string long_name(300, 'a');

    const std::vector<ProgramCase> cases{
        // References and URLs on the command line.
        {"empty image reference", c02, {""}, "it is empty"},
        {"space in the name", c02, {"localhost:5000/my busybox:latest"}, "name component 'my busybox'"},
        {"upper-case name", c03, {"localhost:5000/Hello-Workbook:latest"}, "lower-case"},
        {"'..' as a name component", c01, {"localhost:5000/../etc:latest"}, "name component '..'"},
        {"'..' inside a name", c09, {"localhost:5000/a/../b"}, "name component '..'"},
        {"300-character name", c02, {"localhost:5000/" + long_name}, "longer than 255 characters"},
        {"300-character registry host", c01, {long_name + ".example:5000/busybox"}, "longer than 255 characters"},
        {"200-character tag", c01, {real + "/my-busybox:latest", "localhost:5000/copy:" + std::string(200, 't')},
         "1-128 characters"},
        {"space in the tag", c02, {"localhost:5000/busybox:bad tag"}, "tag 'bad tag'"},
        {"newline in the name", c02, {"localhost:5000/busy\nbox"}, "must be lower-case"},
        {"unknown digest algorithm", c01, {"localhost:5000/busybox@md5:d41d8cd98f00b204e9800998ecf8427e"},
         "unsupported digest algorithm"},
        {"truncated digest", c05, {"localhost:5000/busybox@sha256:abc123"}, "invalid digest"},
        {"non-hex digest", c01, {"localhost:5000/busybox@sha256:" + std::string(64, 'z')}, "invalid digest"},
        {"empty digest", c02, {"localhost:5000/busybox@"}, "invalid digest"},
        {"port out of range", c02, {"localhost:99999/busybox"}, "port '99999'"},
        {"port zero", c00, {"localhost:0"}, "port '0'"},
        {"port not a number", c04, {"localhost:http"}, "port 'http'"},
        {"registry with a space", c00, {"local host:5000"}, "not a valid registry host"},
        {"scheme in an image reference", c02, {"http://localhost:5000/busybox"}, "a reference has no scheme"},
        {"ftp:// registry", c00, {"ftp://localhost:5000"}, "only http:// and https://"},
        {"file:// registry", c07, {"file:///etc/passwd"}, "only http:// and https://"},
        {"empty registry", c00, {""}, "expected host:port"},
        {"registry with a path", c04, {"localhost:5000/v2/evil"}, "expected host:port"},

        // A registry that misbehaves (a scripted server on loopback).
        {"/v2/ answers 404 with a JSON error", c00, {"{server}"}, "404 Not Found, NAME_UNKNOWN",
         always(json_error(404, "NAME_UNKNOWN"))},
        {"/v2/ answers 500 with no body", c00, {"{server}"}, "500 Internal Server Error", always({.status = 500})},
        {"/v2/ answers 503 with an HTML page", c00, {"{server}"}, "503 Service Unavailable",
         always(plain(503, "<html>\n<body>Service Unavailable</body>\n</html>\n"))},
        {"/v2/ answers 429 TOOMANYREQUESTS", c00, {"{server}"}, "429 Too Many Requests, TOOMANYREQUESTS",
         always(json_error(429, "TOOMANYREQUESTS"))},
        {"/v2/ answers 401 without Www-Authenticate", c00, {"{server}"}, "401 Unauthorized",
         always({.status = 401})},
        {"/v2/ is a web server, not a registry", c00, {"{server}"}, "not a v2 registry",
         always(plain(200, "<html>It works!</html>\n"))},
        {"/v2/ never answers", c00, {"{server}"}, "the server stalled: no byte moved for 2 s", always({.delivery = Delivery::never_answer}), stall_env},
        {"/v2/ redirects to itself", c00, {"{server}"}, "redirect",
         always({.status = 307, .headers = {{"Location", "/v2/"}}})},
        {"/v2/ body longer than any error page", c00, {"{server}"}, "4194304 bytes",
         always(plain(500, std::string(5 << 20, 'x')))},
        {"/v2/ declares 10 GB and stops", c00, {"{server}"}, "the server stalled: no byte moved for 2 s",
         always({.headers = {{"Content-Length", huge}}, .body = "{}", .delivery = Delivery::stall_after}), stall_env},

        {"manifest 404 MANIFEST_UNKNOWN", c02, {"{server}/nothing:here"}, "MANIFEST_UNKNOWN",
         except(fake, "GET", "/manifests/", replace_with(json_error(404, "MANIFEST_UNKNOWN")))},
        {"manifest 404 without a body", c01, {"{server}/busybox:latest", real + "/copy:latest"}, "404 Not Found",
         except(fake, "GET", "/manifests/", replace_with({.status = 404}))},
        {"manifest 500 with a multi-line HTML page", c02, {"{server}/busybox:latest"}, "500 Internal Server Error",
         except(fake, "GET", "/manifests/", replace_with(plain(500, "<html>\n<h1>Oops</h1>\n</html>\n")))},
        {"manifest 503 with a truncated JSON error", c01, {"{server}/busybox:latest", real + "/copy:latest"},
         "503 Service Unavailable",
         except(fake, "GET", "/manifests/", replace_with(plain(503, R"({"errors":[{"code":"UNAVA)", "application/json")))},
        {"manifest is an HTML page", c02, {"{server}/busybox:not-json"}, "invalid manifest", fake_handler(fake)},
        {"manifest is truncated JSON", c01, {"{server}/busybox:truncated-json", real + "/copy:latest"},
         "invalid manifest", fake_handler(fake)},
        {"manifest is a JSON array", c02, {"{server}/busybox:array"}, "invalid manifest", fake_handler(fake)},
        {"manifest without config", c01, {"{server}/busybox:no-config", real + "/copy:latest"}, "config",
         fake_handler(fake)},
        {"manifest layer without digest", c02, {"{server}/busybox:no-layer-digest"}, "digest", fake_handler(fake)},
        {"manifest layer size is a string", c01, {"{server}/busybox:string-size", real + "/copy:latest"}, "size",
         fake_handler(fake)},
        {"manifest layer size is negative", c02, {"{server}/busybox:negative-size"}, "size", fake_handler(fake)},
        {"manifest without layers", c01, {"{server}/busybox:no-layers", real + "/copy:latest"}, "layers",
         fake_handler(fake)},
        // Parsed as its Content-Type says (mediaType is optional in OCI); the registry refuses it.
        {"schema2 manifest without mediaType", c01, {"{server}/busybox:no-media-type", real + "/copy:latest"},
         "MANIFEST_INVALID", fake_handler(fake)},
        {"manifest names a truncated digest", c01, {"{server}/busybox:bad-layer-digest", real + "/copy:latest"},
         "invalid digest", fake_handler(fake)},
        {"mediaType contradicts Content-Type", c02, {"{server}/busybox:contradiction"}, "contradict",
         fake_handler(fake)},
        {"10 GB layer declared, copy", c01, {"{server}/busybox:huge-layer", real + "/huge:latest"},
         "of " + huge + " bytes", fake_handler(fake), {}, {}, {}, 10},
        {"10 GB layer declared, anatomy", c02, {"{server}/busybox:huge-layer"}, "is " + huge + " bytes",
         fake_handler(fake), {}, {}, {}, 10},
        {"10 GB config declared", c02, {"{server}/busybox:huge-config"}, "is " + huge + " bytes", fake_handler(fake),
         {}, {}, {}, 10},
        {"Docker-Content-Digest lies", c02, {"{server}/busybox:latest"}, "hash to",
         except(fake, "GET", "/manifests/", [](ScriptedResponse r) {
             for (auto& [name, value] : r.headers)
                 if (name == "Docker-Content-Digest") value = wbclient::digest_of("something else").str();
             return r;
         })},
        {"manifest Content-Length shorter than the body", c01, {"{server}/busybox:latest", real + "/copy:latest"},
         "has digest", except(fake, "GET", "/manifests/", lying_length(-40, Delivery::close_after))},
        {"manifest Content-Length longer than the body", c02, {"{server}/busybox:latest"}, "closed the connection before the whole body arrived",
         except(fake, "GET", "/manifests/", lying_length(+1000))},
        {"manifest stalls mid-body", c01, {"{server}/busybox:latest", real + "/copy:latest"}, "the server stalled: no byte moved for 2 s",
         except(fake, "GET", "/manifests/", stall_after(100)), stall_env},
        {"manifest request never answered", c02, {"{server}/busybox:latest"}, "the server stalled: no byte moved for 2 s",
         except(fake, "GET", "/manifests/", never_answer()), stall_env},
        {"manifest redirect loop", c01, {"{server}/busybox:latest", real + "/copy:latest"}, "redirect",
         except(fake, "GET", "/manifests/", redirect_loop("/v2/loop/manifests/latest"))},

        // Pulling from a registry that serves bad blobs: 01 copies busybox to it, then pulls.
        {"pulled layer has a flipped byte", c01, {real + "/my-busybox:latest", "{server}/copy:latest"},
         "arrived with digest", except(fake, "GET", "/blobs/" + layer.digest.str(), flip_byte(1000))},
        {"pulled config has a flipped byte", c01, {real + "/my-busybox:latest", "{server}/copy:latest"},
         "arrived with digest", except(fake, "GET", "/blobs/" + config.digest.str(), flip_byte(10))},
        {"pulled layer Content-Length too short", c01, {real + "/my-busybox:latest", "{server}/copy:latest"},
         "ended after", except(fake, "GET", "/blobs/" + layer.digest.str(), lying_length(-5000))},
        {"pulled layer Content-Length too long", c01, {real + "/my-busybox:latest", "{server}/copy:latest"},
         "larger than its", except(fake, "GET", "/blobs/" + layer.digest.str(), [](ScriptedResponse r) {
             r.body += std::string(5000, 'x');
             return r;
         })},
        {"pulled layer stalls mid-body", c01, {real + "/my-busybox:latest", "{server}/copy:latest"}, "the server stalled: no byte moved for 2 s",
         except(fake, "GET", "/blobs/" + layer.digest.str(), stall_after(300000)), stall_env},
        {"pulled layer 404 BLOB_UNKNOWN", c01, {real + "/my-busybox:latest", "{server}/copy:latest"}, "BLOB_UNKNOWN",
         except(fake, "GET", "/blobs/" + layer.digest.str(), replace_with(json_error(404, "BLOB_UNKNOWN")))},
        {"pulled layer redirect loop", c01, {real + "/my-busybox:latest", "{server}/copy:latest"}, "redirect",
         except(fake, "GET", "/blobs/" + layer.digest.str(), redirect_loop("/v2/loop/blobs/" + layer.digest.str()))},
        {"stored manifest digest differs", c01, {real + "/my-busybox:latest", "{server}/copy:latest"},
         "registry stored manifest as", except(fake, "PUT", "/manifests/", [](ScriptedResponse r) {
             r.headers = {{"Docker-Content-Digest", wbclient::digest_of("other").str()}};
             return r;
         })},

        // Pushing to a registry whose upload sessions are broken (03 pushes its own image).
        {"upload session without Location", c03, {"{server}/hello:latest"}, "without a Location header",
         except(fake, "POST", "/blobs/uploads/", replace_with({.status = 202}))},
        {"upload Location neither URL nor path", c03, {"{server}/hello:latest"}, "neither an absolute URL nor a path",
         except(fake, "POST", "/blobs/uploads/", replace_with({.status = 202, .headers = {{"Location", "upload-1"}}}))},
        {"upload Location on another host", c03, {"{server}/hello:latest"}, "another host",
         except(fake, "POST", "/blobs/uploads/",
                replace_with({.status = 202, .headers = {{"Location", "http://{catcher}/v2/hello/blobs/uploads/1"}}}))},
        {"upload answered 500", c03, {"{server}/hello:latest"}, "500 Internal Server Error",
         except(fake, "POST", "/blobs/uploads/", replace_with(json_error(500, "UNKNOWN")))},

        // Authentication that goes wrong (chapter 10, a token registry played by the server).
        {"401 without Www-Authenticate", c10, {"{fake}"}, "Www-Authenticate", always({.status = 401}),
         {{"WORKBOOK_TOKEN_REGISTRY", "{server}"}}},
        {"401 with a garbled Www-Authenticate", c10, {"{fake}"}, "Www-Authenticate",
         always({.status = 401, .headers = {{"Www-Authenticate", "Bearer realm=\"http://unterminated"}}}),
         {{"WORKBOOK_TOKEN_REGISTRY", "{server}"}}},
        {"401 with a challenge of only commas", c10, {"{fake}"}, "Www-Authenticate",
         always({.status = 401, .headers = {{"Www-Authenticate", ",,, =,"}}}),
         {{"WORKBOOK_TOKEN_REGISTRY", "{server}"}}},
        {"token realm answers non-JSON", c10, {"{fake}"}, "token",
         [](const ScriptedRequest& r) -> ScriptedResponse {
             if (r.target.starts_with("/token")) return plain(200, "<html>login</html>\n");
             return {.status = 401,
                     .headers = {{"Www-Authenticate", "Bearer realm=\"http://{self}/token\",service=\"fake\""}}};
         },
         {{"WORKBOOK_TOKEN_REGISTRY", "{server}"}}},

        // Tampered storage on the real registry: a byte flipped in a blob's data file.
        {"tampered layer, copied", c01, {real + "/victim:latest", real + "/victim-copy:latest"}, "arrived with digest",
         {}, {}, flip_in_storage(layer.digest, 500), flip_in_storage(layer.digest, 500)},
        {"tampered layer, pulled", c01, {real + "/victim:latest", real + "/victim:latest"}, "arrived with digest", {},
         {}, flip_in_storage(layer.digest, 500), flip_in_storage(layer.digest, 500)},
        {"tampered layer, anatomy", c02, {real + "/victim:latest"}, "arrived with digest", {}, {},
         flip_in_storage(layer.digest, 500), flip_in_storage(layer.digest, 500)},
        {"tampered config, anatomy", c02, {real + "/victim:latest"}, "arrived with digest", {}, {},
         flip_in_storage(config.digest, 3), flip_in_storage(config.digest, 3)},
        {"tampered config, pulled", c01, {real + "/victim:latest", real + "/victim:latest"}, "arrived with digest", {},
         {}, flip_in_storage(config.digest, 3), flip_in_storage(config.digest, 3)},
        {"tampered manifest, by tag", c01, {real + "/victim:latest", real + "/victim-copy:latest"}, "has digest", {},
         {}, flip_in_storage(seeded, in_manifest), flip_in_storage(seeded, in_manifest)},
        {"tampered manifest, by digest", c01, {by_digest, real + "/victim-copy:latest"}, "has digest", {}, {},
         flip_in_storage(seeded, in_manifest), flip_in_storage(seeded, in_manifest)},
        {"tampered manifest, anatomy", c02, {real + "/victim:latest"}, "hash to", {}, {},
         flip_in_storage(seeded, in_manifest), flip_in_storage(seeded, in_manifest)},

        // Hostile layers on the real registry, listed by chapter 02.
        {"layer that is not gzip", c02, {real + "/not-gzip:latest"}, "not gzip"},
        {"layer of truncated gzip", c02, {real + "/truncated-gzip:latest"}, "gzip"},
        {"gzip bomb past 1 GiB", c02, {real + "/gzip-bomb:latest"}, "expands beyond the limit", {}, {}, {}, {}, 60},
    };

    const auto check_registry_intact = [&] {
        for (const std::string repository : {"my-busybox", "victim"}) {
            const wbclient::FetchedManifest now = client.get_manifest(repository, "latest");
            CHECK(now.digest == seeded);
            for (const auto& blob : now.parsed.references())
                client.fetch_blob(repository, blob, [](const char*, std::size_t) {});  // verifies the digest
        }
        for (const std::string repository : {"copy", "huge", "victim-copy"}) {
            const wbclient::Response tags =
                client.http().perform({.url = client.url(repository, "tags/list")});
            // No tag may have appeared (an untagged repository may exist: blobs were copied).
            INFO(repository << " tags/list: " << tags.status << " " << tags.body);
            const json listed = json::parse(tags.body, nullptr, false);
            CHECK((tags.status == 404 ||
                   (tags.status == 200 && listed.is_object() && (!listed.contains("tags") || listed["tags"].is_null() ||
                                                                 listed["tags"].empty()))));
        }
    };

    std::size_t run = 0;
    for (const ProgramCase& c : cases) {
        {
            ++run;
            INFO("case: " << c.program << ": " << c.name);
            harness::Workspace folder("hostile-case");
            harness::ScriptedServer catcher(always({.status = 404}));
            std::optional<harness::ScriptedServer> server;
            std::string server_address = "127.0.0.1:1";
            if (c.server) {
                // The handler may name its own address ({self}), e.g. in a token realm.
                auto address = std::make_shared<std::string>();
                const std::string catcher_address = catcher.host_port();
                server.emplace([handler = c.server, address, catcher_address](const ScriptedRequest& request) {
                    ScriptedResponse answer = handler(request);
                    for (auto& [name, value] : answer.headers)
                        value = replace_all(replace_all(value, "{self}", *address), "{catcher}", catcher_address);
                    return answer;
                });
                *address = server_address = server->host_port();
            }
            const auto expand = [&](std::string text) {
                text = replace_all(text, "{server}", server_address);
                return replace_all(text, "{fake}", fake_server.host_port());
            };
            std::vector<std::string> args;
            for (const auto& arg : c.args) args.push_back(expand(arg));
            std::map<std::string, std::string> env;
            for (const auto& [name, value] : c.env) env[name] = expand(value);

            if (c.before) c.before();
            const auto start = std::chrono::steady_clock::now();
            const std::chrono::seconds deadline = program_deadline(c);
            const harness::ChapterRun result = harness::run_chapter(c.program, args, folder, env, deadline);

            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (c.after) c.after();

            const std::string& err = result.result.err;
            // One line per case on the test's stderr: what each hostile input ended as.
            std::fprintf(stderr, "%5.1f s  %s -- %s", seconds, c.name.c_str(), err.c_str());
            INFO("stderr: " << err << "stdout: " << result.result.out);
            INFO("deadline: killed after " << deadline.count() << " s");
            CHECK_FALSE(result.result.timed_out);
            CHECK(result.result.exit_code == 1);
            CHECK(harness::is_one_line(err));
            CHECK(err.starts_with(c.program + ": "));
            CHECK(err.find(c.reason) != std::string::npos);
            CHECK(seconds < c.max_seconds);
            CHECK_FALSE(test_support::has_partial_leftovers(folder.path()));
            CHECK(leftovers(folder.path()).empty());
            CHECK(catcher.requests().empty());
            check_registry_intact();
        }
    }

    // Layers no chapter program unpacks from a registry: straight into the extractor.
    const auto extract = [](std::vector<TarEntry> entries, wbclient::ExtractionLimits limits = {}) {
        return [entries = std::move(entries), limits](const fs::path& folder) {
            write_file(folder / "layer.tar.gz", build_tar_gz(entries));
            wbclient::extract_layer(folder / "layer.tar.gz", folder / "rootfs", limits);
        };
    };
    const fs::path absolute_victim = workspace.path() / "absolute-victim";
    const std::vector<LibraryCase> library_cases{
        {"entry climbing out with ../", extract({{.path = "../escaped", .content = "x"}}), "climbs out with '..'",
         {"escaped"}},
        {"entry deep ../ after a folder", extract({{.path = "a/../../escaped", .content = "x"}}),
         "climbs out with '..'", {"escaped"}},
        {"absolute entry path", extract({{.path = absolute_victim.string(), .content = "x"}}), "absolute path",
         {absolute_victim.string()}},
        {"symlink outside, then a file through it",
         extract({{.path = "link", .type = AE_IFLNK, .symlink = "../outside"},
                  {.path = "link/pwned", .content = "x"}}),
         "symlink", {"outside/pwned"}},
        {"absolute symlink, then a file through it",
         extract({{.path = "etc", .type = AE_IFLNK, .symlink = absolute_victim.string()},
                  {.path = "etc/pwned", .content = "x"}}),
         "absolute path", {absolute_victim.string()}},
        {"symlink inside, then a file through it",
         extract({{.path = "dir", .type = AE_IFDIR},
                  {.path = "link", .type = AE_IFLNK, .symlink = "dir"},
                  {.path = "link/file", .content = "x"}}),
         "through the symlink"},
        {"hard link outside", extract({{.path = "passwd", .hardlink = "../../../../etc/passwd"}}), "hard link", {}},
        {"hard link to an absolute path", extract({{.path = "passwd", .hardlink = "/etc/passwd"}}), "hard link", {}},
        {"character device", extract({{.path = "dev/null", .type = AE_IFCHR}}), "device node"},
        {"block device", extract({{.path = "dev/sda", .type = AE_IFBLK}}), "device node"},
        {"fifo", extract({{.path = "pipe", .type = AE_IFIFO}}), "fifo"},
        {"gzip bomb past the size limit",
         extract({{.path = "zeros", .zeros = 64 << 20}}, {.max_total_bytes = 8 << 20}), "limit"},
        {"more entries than the limit",
         extract({{.path = "a", .content = "1"}, {.path = "b", .content = "2"}, {.path = "c", .content = "3"}},
                 {.max_entries = 2}),
         "more than 2"},
        {"layer that is not gzip",
         [](const fs::path& folder) {
             write_file(folder / "layer.tar.gz", "<html>not a layer</html>\n");
             wbclient::extract_layer(folder / "layer.tar.gz", folder / "rootfs");
         },
         "layer.tar.gz"},
        {"listing a gzip bomb",
         [](const fs::path&) {
             wbclient::list_layer(build_tar_gz({{.path = "zeros", .zeros = 64 << 20}}),
                                   {.max_uncompressed_bytes = 8 << 20});
         },
         "expands beyond the limit"},
    };
    for (const LibraryCase& c : library_cases) {
        {
            ++run;
            INFO("case: extract_layer: " << c.name);
            harness::Workspace parent("hostile-layer");
            const fs::path folder = parent.path() / "work";
            fs::create_directories(folder / "outside");
            std::string message;
            try {
                c.call(folder);
            } catch (const std::exception& error) {
                message = error.what();
            }
            INFO("message: " << message);
            std::fprintf(stderr, "         extract_layer: %s -- %s\n", c.name.c_str(), message.c_str());
            CHECK(harness::is_one_line(message + "\n"));
            CHECK(message.find(c.reason) != std::string::npos);
            CHECK_FALSE(fs::exists(folder / "rootfs"));
            CHECK_FALSE(test_support::has_partial_leftovers(parent.path()));
            CHECK(fs::is_empty(folder / "outside"));
            for (const auto& path : c.must_not_exist)
                CHECK_FALSE(fs::exists(fs::symlink_status(fs::path(path).is_absolute() ? fs::path(path) : folder / path)));
        }
    }
    CHECK(run >= 50);
}
