package exam

// IdentitySource says how the candidate's identity was established.
type IdentitySource string

// Identity sources.
const (
	SourceAlipayQR          IdentitySource = "alipay_qr"
	SourceSocialSecurityQR  IdentitySource = "social_security_qr"
	SourceAccount           IdentitySource = "account"
	SourceOfflineUnverified IdentitySource = "offline_unverified"
)

// Valid reports whether s is a known identity source.
func (s IdentitySource) Valid() bool {
	switch s {
	case SourceAlipayQR, SourceSocialSecurityQR, SourceAccount, SourceOfflineUnverified:
		return true
	}
	return false
}
