#pragma once
// Image types told from the bytes themselves, never from a server's Content-Type or a file
// name: the model accepts PNG, JPEG, WEBP, HEIC and HEIF, and nothing else goes out.

#include <optional>
#include <string>
#include <string_view>

namespace assetgen::refs {

// "image/png", "image/jpeg", "image/webp", "image/heic" or "image/heif" when data starts like
// one (HEIC/HEIF by the ftyp box brands heic/heix/hevc/heim/heis and mif1/msf1; AVIF, which
// also lists mif1, is not HEIF); std::nullopt otherwise.
std::optional<std::string> sniff_image_type(std::string_view data);

// For messages about data that sniff_image_type refused: a best guess of what it is, e.g.
// "text/plain", "text/html", "image/gif", "image/avif", "application/pdf"; the server's
// content_type (parameters removed) when the bytes say nothing; "" when nothing is known.
std::string guess_type(std::string_view data, std::string_view content_type);

// True when guess_type's answer is an image format the model does not take (GIF, AVIF, ...).
bool is_unsupported_image(std::string_view guessed_type);

}  // namespace assetgen::refs
