#include "busybox_image.hpp"

#include "registry_instance.hpp"

#include "wbclient/image/layer_builder.hpp"

#include <unistd.h>

#include <stdexcept>

namespace fs = std::filesystem;
using namespace wbclient;

namespace harness {
namespace {

constexpr const char* busybox_binary = "/bin/busybox";
// Enough applets for a shell session and for the chapters' `docker run ... echo`.
constexpr const char* applets[] = {"sh",  "echo", "ls",    "cat",  "env",  "true", "false",
                                   "sleep", "mkdir", "rm", "cp",   "mv",   "pwd",  "uname",
                                   "id",  "head", "tail",  "wc",   "grep", "sed",  "date"};

}  // namespace

Digest seed_busybox(RegistryClient& registry, const std::string& repository,
                    const std::string& tag) {
    if (!fs::exists(busybox_binary))
        throw std::runtime_error("/bin/busybox is missing (Debian package busybox-static)");

    // The harness's own requests are told apart from the chapters' by their user agent.
    registry.http().set_user_agent(harness_user_agent);
    LayerBuilder layer;
    layer.add_directory("bin");
    layer.add_file_from("bin/busybox", busybox_binary, 0755);
    for (const char* applet : applets) layer.add_symlink(std::string("bin/") + applet, "busybox");
    layer.add_directory("tmp", 01777);

    const fs::path scratch = fs::temp_directory_path() /
                             ("workbook-busybox-" + std::to_string(::getpid()) + ".tar.gz");
    const BuiltLayer built = layer.write(scratch, media_type::docker_layer_gzip);

    const nlohmann::json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"created", "1970-01-01T00:00:00Z"},
        {"config",
         {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
          {"Cmd", {"sh"}}}},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {built.diff_id.str()}}}},
        {"history",
         {{{"created", "1970-01-01T00:00:00Z"},
           {"created_by", "registry-workbook: /bin/busybox from Debian's busybox-static"}}}}};
    const std::string config_bytes = config.dump();
    const Descriptor config_blob{.media_type = std::string(media_type::docker_config),
                                 .digest = digest_of(config_bytes),
                                 .size = config_bytes.size()};

    try {
        registry.push_blob(repository, built.blob, built.file);
    } catch (...) {
        fs::remove(scratch);
        throw;
    }
    fs::remove(scratch);
    registry.push_blob(repository, config_bytes);

    const nlohmann::json manifest = {{"schemaVersion", 2},
                                     {"mediaType", media_type::docker_manifest},
                                     {"config", descriptor_to_json(config_blob)},
                                     {"layers", {descriptor_to_json(built.blob)}}};
    return registry.put_manifest(repository, tag, media_type::docker_manifest, manifest.dump(3));
}

}  // namespace harness
