#include "keys/key_operation.h"

namespace mtas {

KeyOperation::KeyOperation(std::shared_ptr<EVP_PKEY> key, Kind kind)
    : key_(std::move(key)), kind_(kind), eddsa_(key_ && EVP_PKEY_is_a(key_.get(), "ED25519")) {}

const KeyOperation::Prepared& KeyOperation::PreparedFor(DigestAlg digest) const {
  Prepared& p = prepared_[eddsa_ ? 0 : static_cast<size_t>(digest)];
  std::call_once(p.once, [&] {
    bool sign = kind_ == Kind::kSign;
    if (eddsa_) {
      ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
      int rc = sign ? EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_.get(), nullptr)
                    : EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_.get(), nullptr);
      if (rc == 1)
        p.eddsa = std::move(ctx);
      else
        p.error = ossl::LastError();
      return;
    }
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (ctx && (sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get())) == 1 &&
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_get_digestbyname(DigestOpenSslName(digest))) == 1)
      p.pkey = std::move(ctx);
    else
      p.error = ossl::LastError();
  });
  return p;
}

Result<std::string> KeyOperation::Sign(DigestAlg digest, std::string_view tbs) const {
  if (kind_ != Kind::kSign || !key_) return Status::InvalidArgument("not a signing key");
  const Prepared& p = PreparedFor(digest);
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(key_.get())), '\0');
  size_t sig_len = sig.size();
  auto* out = reinterpret_cast<unsigned char*>(sig.data());
  if (p.eddsa) {
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_MD_CTX_copy_ex(ctx.get(), p.eddsa.get()) != 1 ||
        EVP_DigestSign(ctx.get(), out, &sig_len, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1)
      return Status::CryptoFailure("Ed25519 signing: " + ossl::LastError());
  } else if (p.pkey) {
    std::string md = HashBytes(digest, tbs);
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_dup(p.pkey.get()));
    if (!ctx ||
        EVP_PKEY_sign(ctx.get(), out, &sig_len, reinterpret_cast<const unsigned char*>(md.data()), md.size()) != 1)
      return Status::CryptoFailure("signing: " + ossl::LastError());
  } else {
    return Status::CryptoFailure("cannot sign with this key: " + p.error);
  }
  sig.resize(sig_len);
  return sig;
}

Result<bool> KeyOperation::Verify(DigestAlg digest, std::string_view signature, std::string_view tbs) const {
  if (kind_ != Kind::kVerify || !key_) return Status::InvalidArgument("not a verifying key");
  const Prepared& p = PreparedFor(digest);
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  int rc;
  if (p.eddsa) {
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_MD_CTX_copy_ex(ctx.get(), p.eddsa.get()) != 1)
      return Status::CryptoFailure("cannot verify with this key: " + ossl::LastError());
    rc = EVP_DigestVerify(ctx.get(), sig, signature.size(), reinterpret_cast<const unsigned char*>(tbs.data()),
                          tbs.size());
  } else if (p.pkey) {
    std::string md = HashBytes(digest, tbs);
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_dup(p.pkey.get()));
    if (!ctx) return Status::CryptoFailure("cannot verify with this key: " + ossl::LastError());
    rc =
        EVP_PKEY_verify(ctx.get(), sig, signature.size(), reinterpret_cast<const unsigned char*>(md.data()), md.size());
  } else {
    return Status::CryptoFailure("cannot verify with this key: " + p.error);
  }
  ERR_clear_error();
  return rc == 1;
}

}  // namespace mtas
