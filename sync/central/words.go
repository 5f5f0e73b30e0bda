package central

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/text/language"
)

// The words of the central's own pages (review, devices, fleet, reviewer
// login, the phone's QR confirmation, payment) in one catalog, one
// language per page. A page's data carries W, a words; its template says
// {{.W.T "key"}} (with arguments: {{.W.T "key" .N}}, fmt verbs in the
// catalog), {{.W.Lang}} in <html lang>, {{.W.Switch}} for the link to the
// other language; a handler says W.T("key"). The language comes from
// ?lang= (remembered in a cookie), else the cookie, else Accept-Language;
// Chinese when nothing says otherwise. TestPageWords checks that every key
// a page uses has words in every language.

// Page languages, in the order of the catalog's columns.
const (
	langZH = iota
	langEN
	nLangs
)

var (
	langTags    = [nLangs]language.Tag{language.SimplifiedChinese, language.English}
	langCodes   = [nLangs]string{"zh-CN", "en"}
	langNames   = [nLangs]string{"中文", "English"}
	langMatcher = language.NewMatcher(langTags[:])
)

// langCookie remembers a language chosen with ?lang=.
const langCookie = "lang"

// pageText is the catalog: key → the words in each language (langZH, langEN).
var pageText = map[string][nLangs]string{
	// shared
	"form.expired":        {"表单已过期或来自其他网站，请刷新页面后重试。", "The form expired or came from another site: reload the page and try again."},
	"form.expired.rescan": {"表单已过期或来自其他网站，请重新扫码。", "The form expired or came from another site: scan the code again."},
	"nav.review":          {"审核", "Review"},
	"nav.devices":         {"设备", "Devices"},
	"nav.fleet":           {"监控", "Fleet"},
	"nav.alerts":          {"告警 JSON", "Alerts JSON"},
	"state.revoked":       {"已吊销", "revoked"},
	"state.active":        {"有效", "active"},
	"state.ok":            {"正常", "OK"},
	"col.device":          {"设备", "Device"},
	"col.kiosk":           {"自助机", "Kiosk"},
	"col.centre":          {"考点", "Centre"},
	"col.heartbeat":       {"最后心跳", "Last heartbeat"},
	"col.queue":           {"队列", "Queue"},
	"col.oldest":          {"最早排队", "Oldest queued"},
	"col.quarantined":     {"隔离", "Quarantined"},
	"col.camera":          {"摄像头", "Camera"},
	"col.disk":            {"磁盘可用", "Disk free"},
	"col.version":         {"版本", "Version"},
	"col.model":           {"模型", "Model"},
	"col.node":            {"所连中心节点", "Central node"},
	"col.state":           {"状态", "State"},
	"col.alerts":          {"告警", "Alerts"},
	"col.alert":           {"告警", "Alert"},
	"col.detail":          {"详情", "Detail"},

	// phone: QR login confirmation (identity.go)
	"qr.title":                {"扫码登录确认", "Confirm the QR login"},
	"qr.demo":                 {"演示模式：此页面代替%s的手机应用。模拟的身份提供方（本机密钥）为下面填写的姓名和身份证号码签名，它们未经核验。", "Demo mode: this page stands in for the %s phone app. A simulated identity provider (a local key pair) signs the name and ID number typed below; they are not verified."},
	"qr.at":                   {"您正在登录以下考点的报名自助机：", "You are logging in at a registration kiosk of this test centre:"},
	"qr.notHere":              {"如果您不在该考点的自助机前，请不要确认。", "If you are not standing at a kiosk of this test centre, do not confirm."},
	"qr.name":                 {"姓名", "Name"},
	"qr.idNumber":             {"身份证号码", "ID number"},
	"qr.confirm":              {"确认登录", "Confirm login"},
	"qr.scanWith":             {"请使用%s扫描自助机上的二维码。", "Scan the code on the kiosk with the %s app."},
	"qr.invalid":              {"二维码无效，请在自助机上刷新二维码。", "This QR code is not valid: refresh it on the kiosk."},
	"qr.expired":              {"二维码已过期，请在自助机上刷新。", "The QR code expired: refresh it on the kiosk."},
	"qr.used":                 {"该二维码已使用。", "This QR code was already used."},
	"qr.notScanned":           {"请先扫码。", "The code was not scanned yet."},
	"qr.badIdentity":          {"姓名或身份证号码无效。", "The name or ID number is not valid."},
	"qr.confirmed":            {"已确认，请回到自助机继续。", "Confirmed: continue at the kiosk."},
	"qr.heading":              {"%s扫码登录", "%s QR login"},
	"channel.alipay":          {"支付宝", "Alipay"},
	"channel.social_security": {"电子社保卡", "electronic social-security card"},

	// phone: payment (payment.go)
	"pay.title":      {"报名缴费", "Payment"},
	"pay.fee":        {"考试报名费", "Exam fee"},
	"pay.order":      {"订单", "Order"},
	"pay.amount":     {"金额", "Amount"},
	"pay.by":         {"缴费截止", "Pay by"},
	"pay.status":     {"状态", "Status"},
	"pay.demo":       {"演示：没有真实的支付宝。下面的按钮让模拟的支付宝（本机的密钥）签发付款通知，中心系统照常验签。", "Demo: no real Alipay here. The button has the simulated Alipay (a local key pair) sign a payment notification, which the central verifies as usual."},
	"pay.simulate":   {"模拟支付", "Pay (simulated)"},
	"pay.withAli":    {"请使用支付宝完成支付；到账后状态自动更新。", "Pay with Alipay; the status updates when Alipay confirms."},
	"pay.noOrder":    {"订单不存在。", "There is no such order."},
	"pay.st.unpaid":  {"待缴费", "unpaid"},
	"pay.st.paid":    {"已缴费", "paid"},
	"pay.st.expired": {"已过期", "expired"},

	// reviewers: login (reviewers.go)
	"login.title":    {"审核人员登录", "Staff login"},
	"login.name":     {"用户名", "Name"},
	"login.password": {"密码", "Password"},
	"login.submit":   {"登录", "Log in"},
	"login.wrong":    {"用户名或密码错误。", "Wrong name or password."},
	"login.tooMany":  {"尝试次数过多，请%d分钟后再试。", "Too many attempts: try again in %d min."},
	"login.failed":   {"登录未能完成，请重试。", "The login could not be completed: try again."},

	// reviewers: review queue (review.go)
	"ticket.title":       {"准考证核验", "Admission ticket check"},
	"ticket.valid":       {"准考证有效", "Valid admission ticket"},
	"ticket.number":      {"准考证号", "Number"},
	"ticket.name":        {"姓名", "Name"},
	"ticket.idNumber":    {"身份证号", "ID number"},
	"ticket.exam":        {"考试", "Exam"},
	"ticket.site":        {"考点", "Site"},
	"ticket.room":        {"考场", "Room"},
	"ticket.seat":        {"座位", "Seat"},
	"ticket.time":        {"时间", "Time"},
	"ticket.check":       {"请核对考生本人与证件照片。", "Check the candidate against the photo and the ID card."},
	"ticket.invalid":     {"准考证无效", "Not a valid admission ticket"},
	"ticket.invalidText": {"此二维码不是本中心签发的准考证，或已被篡改。", "This QR code is not a ticket this central issued, or it was altered."},
	"review.title":       {"报名审核", "Review queue"},
	"review.demo":        {"（演示模式，未登录）", "(demo mode, no login)"},
	"review.logout":      {"退出", "Log out"},
	"review.count":       {"%d 份待审核", "%d under review"},
	"review.hours":       {"工作日 %s 审核，须在 %s 工作时间内完成", "reviewers work %s on weekdays and review within %s of working time"},
	"review.photo":       {"照片", "Photo"},
	"review.candidate":   {"考生", "Candidate"},
	"review.exam":        {"报考岗位", "Exam / position"},
	"review.submitted":   {"提交", "Submitted"},
	"review.due":         {"审核截止", "Review due"},
	"review.decision":    {"审核", "Decision"},
	"review.approve":     {"通过", "Approve"},
	"review.reject":      {"驳回", "Reject"},
	"review.reason":      {"驳回原因", "reason"},
	"review.dup":         {"疑似重复", "Duplicate suspected"},
	"review.dupText":     {"人脸与另一身份证号的报名相同", "the face matches another ID number's registration"},
	"review.distance":    {"距离", "distance"},
	"review.next":        {"下一页", "next page"},
	"review.dupAcross":   {"疑似重复（全省检索）", "Duplicate suspected across kiosks"},
	"review.dupPending":  {"重复检索待完成（检索中，或中心的人脸索引仍在加载）", "duplicate search pending (searching, or the central's face index is still loading)"},
	"review.failed":      {"操作失败：%s", "Failed: %s"},
	"review.done":        {"%s（%s）：%s", "%s (%s): %s"},
	"status.approved":    {"已通过", "approved"},
	"status.rejected":    {"已驳回", "rejected"},

	// devices (review.go)
	"devices.title": {"自助机", "Kiosks"},

	// fleet (fleet.go)
	"fleet.title":               {"自助机监控", "Kiosk fleet"},
	"fleet.current":             {"当前版本", "current version"},
	"fleet.alerts":              {"告警（%d）", "Alerts (%d)"},
	"fleet.noAlerts":            {"无告警", "No alerts"},
	"alert.no_heartbeat":        {"无心跳", "No heartbeat"},
	"alert.queue_old":           {"队列积压", "Queue waiting"},
	"alert.camera_disconnected": {"摄像头断开", "Camera down"},
	"alert.low_disk":            {"磁盘不足", "Low disk"},
	"alert.version_behind":      {"版本落后", "Version behind"},
}

// words is one page's language. The zero value is Chinese.
type words struct {
	lang int
}

// T returns the words of key in the page's language, formatted with args.
// A key the catalog lacks reads as the key itself (TestPageWords fails).
func (w words) T(key string, args ...any) string {
	text, ok := pageText[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return text[w.lang]
	}
	return fmt.Sprintf(text[w.lang], args...)
}

// Both is key's words in every language, "中文 / English": for answers
// that go to a program (a provider's API) rather than to a page.
func (w words) Both(key string, args ...any) string {
	return words{langZH}.T(key, args...) + " / " + words{langEN}.T(key, args...)
}

// Lang is the page's language for <html lang>.
func (w words) Lang() string { return langCodes[w.lang] }

// Time writes a time as people of the page's language read it (24-hour
// clock in both).
func (w words) Time(t time.Time) string { return t.Format("2006-01-02 15:04") }

// Switch is the link to the page in the other language.
func (w words) Switch() template.HTML {
	other := (w.lang + 1) % nLangs
	return template.HTML(`<a class="lang" href="?lang=` + url.QueryEscape(langCodes[other]) + `" hreflang="` + langCodes[other] + `" lang="` + langCodes[other] + `">` +
		template.HTMLEscapeString(langNames[other]) + `</a>`)
}

// pageWords chooses the language of the page answering r: ?lang= (which
// it remembers in a cookie for the pages that follow), the cookie, the
// browser's Accept-Language, Chinese.
func pageWords(w http.ResponseWriter, r *http.Request) words {
	if q := r.URL.Query().Get("lang"); q != "" {
		if l, ok := langOf(q); ok {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: langCodes[l], Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode})
			return words{l}
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := langOf(c.Value); ok {
			return words{l}
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := langMatcher.Match(tags...)
			if conf > language.No {
				return words{i}
			}
		}
	}
	return words{langZH}
}

// langOf reads a language code (zh-CN, zh, en, en-GB, ...).
func langOf(code string) (int, bool) {
	t, err := language.Parse(code)
	if err != nil {
		return 0, false
	}
	_, i, conf := langMatcher.Match(t)
	return i, conf > language.No
}
