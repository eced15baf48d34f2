// Fuzzes extract_layer: arbitrary bytes are extracted into a fresh folder, then the sandbox
// around it is checked: nothing written beside or above the target, no staging folder left
// behind, and no symlink in the result that leads outside it.
#include "fuzz_common.hpp"

#include "wbclient/image/layer_extractor.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace fs = std::filesystem;

namespace {

[[noreturn]] void finding(const std::string& what) {
    std::fprintf(stderr, "fuzz_layer_extractor: %s\n", what.c_str());
    std::abort();
}

// One sandbox per process, under TMPDIR (the CTest driver points it into the build folder):
//   <sandbox>/layer           the input, written anew for every run
//   <sandbox>/jail/a/b/       the fresh folder, created for every run
//   <sandbox>/jail/a/b/root   the extraction target
// Three levels of folders above the target catch a write that climbs out with "..".
struct Sandbox {
    fs::path top;
    Sandbox() {
        std::string pattern = (fs::temp_directory_path() / "fuzz-extract-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) finding("cannot create a sandbox under TMPDIR");
        top = fs::canonical(pattern);
    }
    ~Sandbox() {
        std::error_code ignored;
        fs::remove_all(top, ignored);
    }
    fs::path layer() const { return top / "layer"; }
    fs::path jail() const { return top / "jail"; }
    fs::path parent() const { return top / "jail" / "a" / "b"; }
    fs::path target() const { return parent() / "root"; }
};

// A layer may hold folders without write or search permission; make them removable.
void remove_tree(const fs::path& path) {
    std::error_code error;
    if (!fs::exists(fs::symlink_status(path))) return;
    ::chmod(path.c_str(), 0700);
    for (auto it = fs::recursive_directory_iterator(path, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (it->is_directory(error) && !it->is_symlink(error)) ::chmod(it->path().c_str(), 0700);
    }
    fs::remove_all(path, error);
    if (error) finding("cannot clean up " + path.string() + ": " + error.message());
}

bool inside(const fs::path& path, const fs::path& root) {
    const auto relative = path.lexically_relative(root);
    return !relative.empty() && *relative.begin() != "..";
}

void check_sandbox(const Sandbox& sandbox, bool extracted, std::string_view input) {
    const std::set<fs::path> expected_dirs = {sandbox.jail(), sandbox.jail() / "a", sandbox.parent()};
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator(sandbox.top, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        const fs::path& path = it->path();
        if (path == sandbox.layer() || expected_dirs.count(path)) continue;
        if (path == sandbox.target() && extracted) {
            it.disable_recursion_pending();  // its contents are checked below
            continue;
        }
        finding("unexpected " + path.string() + (extracted ? " after a successful" : " after a failed") +
                " extraction");
    }
    if (error) finding("cannot walk the sandbox: " + error.message());
    if (extracted != fs::is_directory(fs::symlink_status(sandbox.target())))
        finding("the target's existence does not match the result");

    // The input file is what was extracted from, and must be untouched.
    std::ifstream in(sandbox.layer(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (bytes != input) finding("the layer file was modified");

    if (!extracted) return;
    // Every symlink, resolved the way the kernel would, stays inside the target.
    const fs::path root = fs::canonical(sandbox.target());
    for (auto it = fs::recursive_directory_iterator(root, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (!it->is_symlink()) continue;
        const fs::path target = fs::read_symlink(it->path());
        if (target.is_absolute()) finding("symlink " + it->path().string() + " -> " + target.string());
        std::error_code resolve_error;
        const fs::path resolved = fs::weakly_canonical(it->path(), resolve_error);
        if (resolve_error) continue;  // a loop, say: it leads nowhere, so not outside
        if (resolved != root && !inside(resolved, root))
            finding("symlink " + it->path().lexically_relative(root).string() + " -> " +
                    target.string() + " resolves to " + resolved.string() + ", outside the layer");
    }
    if (error) finding("cannot walk the extracted layer: " + error.message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Sandbox sandbox;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    {
        std::ofstream out(sandbox.layer(), std::ios::binary | std::ios::trunc);
        out.write(input.data(), static_cast<std::streamsize>(input.size()));
        if (!out) finding("cannot write the layer file");
    }
    remove_tree(sandbox.jail());
    fs::create_directories(sandbox.parent());

    const wbclient::ExtractionLimits limits{.max_total_bytes = 1 << 20, .max_entries = 64};
    bool extracted = false;
    fuzz::expect_documented_errors(input, [&] {
        const auto result = wbclient::extract_layer(sandbox.layer(), sandbox.target(), limits);
        if (result.bytes > limits.max_total_bytes || result.entries > limits.max_entries)
            finding("extraction went past its limits");
        extracted = true;
    });
    check_sandbox(sandbox, extracted, input);
    remove_tree(sandbox.jail());
    return 0;
}
