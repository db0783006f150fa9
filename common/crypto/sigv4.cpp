#include "crypto/sigv4.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "crypto/hash.hpp"
#include "error/error.hpp"

namespace waddle::crypto {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A '%' not followed by two hex digits stays a literal '%' (re-encoded as %25 later), so a raw
// query such as "discount=5%" signs the way it is sent.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Trims the value and folds every run of spaces and tabs into one space (SigV4's "Trimall").
std::string trim_all(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Removes ".", ".." and empty segments; keeps a trailing slash.
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  bool trailing = !path.empty() && path.back() == '/';
  if (trailing && !segments.empty()) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      std::size_t eq = piece.find('=');
      std::string_view name = piece.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
      params.emplace_back(sigv4_uri_encode(percent_decode(name), false),
                          sigv4_uri_encode(percent_decode(value), false));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

void check_header(const std::string& name, const std::string& value) {
  if (name.empty()) throw Error(Errc::invalid_argument, "SigV4: a header has an empty name");
  for (unsigned char c : name) {
    if (c <= ' ' || c == ':' || c >= 0x7f) {
      throw Error(Errc::invalid_argument, "SigV4: header name '" + name + "' is not a token");
    }
  }
  if (value.find_first_of("\r\n") != std::string::npos) {
    throw Error(Errc::invalid_argument, "SigV4: header '" + name + "' holds a line break");
  }
}

void check_amz_date(std::string_view amz_date) {
  bool ok = amz_date.size() == 16 && amz_date[8] == 'T' && amz_date[15] == 'Z';
  for (std::size_t i = 0; ok && i < 15; ++i) {
    if (i != 8 && (amz_date[i] < '0' || amz_date[i] > '9')) ok = false;
  }
  if (!ok) {
    throw Error(Errc::invalid_argument,
                "SigV4: amz_date '" + std::string(amz_date) + "' is not YYYYMMDDTHHMMSSZ");
  }
}

void require(std::string_view value, const char* what) {
  if (value.empty())
    throw Error(Errc::invalid_argument, std::string("SigV4: ") + what + " is empty");
}

// Region, service and access key id go into the credential scope and the Authorization header:
// anything beyond letters, digits, '-' and '_' would change their structure.
void require_scope_part(std::string_view value, const char* what) {
  require(value, what);
  for (unsigned char c : value) {
    if (!(is_unreserved(c) && c != '.' && c != '~')) {
      throw Error(Errc::invalid_argument, std::string("SigV4: ") + what + " '" +
                                              std::string(value) +
                                              "' may hold only letters, digits, '-' and '_'");
    }
  }
}

}  // namespace

std::string sigv4_uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

CanonicalRequest sigv4_canonical_request(const SigV4Request& request) {
  // Grouped by lowercase name (std::map sorts them), values in the order given.
  std::map<std::string, std::vector<std::string>> grouped;
  std::string payload_hash;
  for (const auto& [name, value] : request.headers) {
    check_header(name, value);
    std::string lower = lowercase(name);
    if (lower == "x-amz-content-sha256") payload_hash = trim_all(value);
    grouped[lower].push_back(trim_all(value));
  }
  if (payload_hash.empty()) payload_hash = sha256_hex(request.body);

  std::string headers_block;
  std::string signed_headers;
  for (const auto& [name, values] : grouped) {
    headers_block += name;
    headers_block.push_back(':');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) headers_block.push_back(',');
      headers_block += values[i];
    }
    headers_block.push_back('\n');
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }

  CanonicalRequest out;
  out.text = request.method + "\n" + sigv4_uri_encode(normalize_path(request.path), true) + "\n" +
             canonical_query(request.query) + "\n" + headers_block + "\n" + signed_headers + "\n" +
             payload_hash;
  out.signed_headers = std::move(signed_headers);
  return out;
}

std::string sigv4_string_to_sign(std::string_view canonical_request, std::string_view region,
                                 std::string_view service, std::string_view amz_date) {
  check_amz_date(amz_date);
  std::string out(kAlgorithm);
  out += "\n";
  out += amz_date;
  out += "\n";
  out += amz_date.substr(0, 8);
  out += "/";
  out += region;
  out += "/";
  out += service;
  out += "/aws4_request\n";
  out += sha256_hex(canonical_request);
  return out;
}

std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date,
                              std::string_view region, std::string_view service) {
  std::string k_date = hmac_sha256("AWS4" + std::string(secret_access_key), date);
  std::string k_region = hmac_sha256(k_date, region);
  std::string k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

HeaderList sigv4_sign(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view region, std::string_view service, std::string_view amz_date,
                      const SigV4Options& options) {
  require(request.method, "the method");
  require(request.host, "the host");
  require_scope_part(region, "the region");
  require_scope_part(service, "the service");
  require_scope_part(credentials.access_key_id, "the access key id");
  require(credentials.secret_access_key, "the secret access key");
  check_amz_date(amz_date);

  SigV4Request signed_request = request;
  signed_request.headers.clear();
  bool has_host = false;
  bool has_date = false;
  bool has_token = false;
  bool has_content_sha = false;
  for (const auto& [name, value] : request.headers) {
    std::string lower = lowercase(name);
    if (lower == "authorization") continue;
    if (lower == "host") has_host = true;
    if (lower == "x-amz-security-token") has_token = true;
    if (lower == "x-amz-content-sha256") has_content_sha = true;
    if (lower == "x-amz-date") {
      if (trim_all(value) != amz_date) {
        throw Error(Errc::invalid_argument, "SigV4: the X-Amz-Date header '" + value +
                                                "' differs from the signing time '" +
                                                std::string(amz_date) + "'");
      }
      has_date = true;
    }
    signed_request.headers.emplace_back(name, value);
  }

  HeaderList added;
  if (!has_host) signed_request.headers.emplace_back("host", request.host);
  if (!has_date) added.emplace_back("X-Amz-Date", std::string(amz_date));
  if (options.content_sha256_header && !has_content_sha) {
    added.emplace_back("X-Amz-Content-Sha256", sha256_hex(request.body));
  }
  if (!credentials.session_token.empty() && !has_token) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  for (const auto& header : added) signed_request.headers.push_back(header);

  CanonicalRequest creq = sigv4_canonical_request(signed_request);
  std::string string_to_sign = sigv4_string_to_sign(creq.text, region, service, amz_date);
  std::string key =
      sigv4_signing_key(credentials.secret_access_key, amz_date.substr(0, 8), region, service);
  std::string signature = hmac_sha256_hex(key, string_to_sign);

  std::string authorization =
      std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
      std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" + std::string(service) +
      "/aws4_request, SignedHeaders=" + creq.signed_headers + ", Signature=" + signature;
  added.emplace_back("Authorization", std::move(authorization));
  return added;
}

}  // namespace waddle::crypto
