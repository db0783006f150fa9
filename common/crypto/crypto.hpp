#pragma once
// Everything in waddle::crypto, for callers that want it all.

#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/encoding.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
