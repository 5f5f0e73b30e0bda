export namespace app {
	
	export class TicketView {
	    number: string;
	    siteName: string;
	    siteAddress?: string;
	    room: string;
	    seat: number;
	    // Go type: time
	    startsAt: any;
	    // Go type: time
	    endsAt: any;
	
	    static createFrom(source: any = {}) {
	        return new TicketView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.number = source["number"];
	        this.siteName = source["siteName"];
	        this.siteAddress = source["siteAddress"];
	        this.room = source["room"];
	        this.seat = source["seat"];
	        this.startsAt = this.convertValues(source["startsAt"], null);
	        this.endsAt = this.convertValues(source["endsAt"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class RegistrationView {
	    id: string;
	    revision: number;
	    exam: string;
	    position: string;
	    status: string;
	    reason?: string;
	    paymentUrl?: string;
	    paymentQr?: string;
	    // Go type: time
	    payBy: any;
	    // Go type: time
	    submittedAt: any;
	    delivered: boolean;
	    // Go type: time
	    reviewBy: any;
	    receiptQr: string;
	    ticket?: TicketView;
	
	    static createFrom(source: any = {}) {
	        return new RegistrationView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.revision = source["revision"];
	        this.exam = source["exam"];
	        this.position = source["position"];
	        this.status = source["status"];
	        this.reason = source["reason"];
	        this.paymentUrl = source["paymentUrl"];
	        this.paymentQr = source["paymentQr"];
	        this.payBy = this.convertValues(source["payBy"], null);
	        this.submittedAt = this.convertValues(source["submittedAt"], null);
	        this.delivered = source["delivered"];
	        this.reviewBy = this.convertValues(source["reviewBy"], null);
	        this.receiptQr = source["receiptQr"];
	        this.ticket = this.convertValues(source["ticket"], TicketView);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class ApplicationForm {
	    phone: string;
	    education: string;
	    major: string;
	    graduationYear: number;
	    workExperience: string;
	    examId: string;
	    positionId: string;
	
	    static createFrom(source: any = {}) {
	        return new ApplicationForm(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.phone = source["phone"];
	        this.education = source["education"];
	        this.major = source["major"];
	        this.graduationYear = source["graduationYear"];
	        this.workExperience = source["workExperience"];
	        this.examId = source["examId"];
	        this.positionId = source["positionId"];
	    }
	}
	export class Candidate {
	    name: string;
	    idMasked: string;
	    source: string;
	    birth: string;
	    sex: string;
	
	    static createFrom(source: any = {}) {
	        return new Candidate(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.idMasked = source["idMasked"];
	        this.source = source["source"];
	        this.birth = source["birth"];
	        this.sex = source["sex"];
	    }
	}
	export class JourneyView {
	    step: string;
	    candidate?: Candidate;
	    photo?: string;
	    distance?: number;
	    threshold?: number;
	    photoOk: boolean;
	    match: boolean;
	    problems: face.Problem[];
	    form?: ApplicationForm;
	    receipt?: RegistrationView;
	    registrations: RegistrationView[];
	    resubmitOf?: string;
	    canSetPassword: boolean;
	
	    static createFrom(source: any = {}) {
	        return new JourneyView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.step = source["step"];
	        this.candidate = this.convertValues(source["candidate"], Candidate);
	        this.photo = source["photo"];
	        this.distance = source["distance"];
	        this.threshold = source["threshold"];
	        this.photoOk = source["photoOk"];
	        this.match = source["match"];
	        this.problems = this.convertValues(source["problems"], face.Problem);
	        this.form = this.convertValues(source["form"], ApplicationForm);
	        this.receipt = this.convertValues(source["receipt"], RegistrationView);
	        this.registrations = this.convertValues(source["registrations"], RegistrationView);
	        this.resubmitOf = source["resubmitOf"];
	        this.canSetPassword = source["canSetPassword"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class AccountLoginView {
	    status: string;
	    message: string;
	    journey: JourneyView;
	
	    static createFrom(source: any = {}) {
	        return new AccountLoginView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.status = source["status"];
	        this.message = source["message"];
	        this.journey = this.convertValues(source["journey"], JourneyView);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class Box {
	    x: number;
	    y: number;
	    w: number;
	    h: number;
	
	    static createFrom(source: any = {}) {
	        return new Box(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.x = source["x"];
	        this.y = source["y"];
	        this.w = source["w"];
	        this.h = source["h"];
	    }
	}
	
	export class CaptchaView {
	    id: string;
	    image: string;
	
	    static createFrom(source: any = {}) {
	        return new CaptchaView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.image = source["image"];
	    }
	}
	export class DiagnosticsQR {
	    summary: string;
	    png: string;
	
	    static createFrom(source: any = {}) {
	        return new DiagnosticsQR(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.summary = source["summary"];
	        this.png = source["png"];
	    }
	}
	export class DuplicateSide {
	    id: string;
	    name: string;
	    idNumber: string;
	    examId: string;
	    status: string;
	    photo: string;
	
	    static createFrom(source: any = {}) {
	        return new DuplicateSide(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.idNumber = source["idNumber"];
	        this.examId = source["examId"];
	        this.status = source["status"];
	        this.photo = source["photo"];
	    }
	}
	export class DuplicateCase {
	    suspect: DuplicateSide;
	    matched: DuplicateSide;
	    distance: number;
	    threshold: number;
	    model: string;
	    review: string;
	
	    static createFrom(source: any = {}) {
	        return new DuplicateCase(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.suspect = this.convertValues(source["suspect"], DuplicateSide);
	        this.matched = this.convertValues(source["matched"], DuplicateSide);
	        this.distance = source["distance"];
	        this.threshold = source["threshold"];
	        this.model = source["model"];
	        this.review = source["review"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class ExamSummary {
	    id: string;
	    name: string;
	    // Go type: time
	    registerUntil: any;
	    positions: number;
	
	    static createFrom(source: any = {}) {
	        return new ExamSummary(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.registerUntil = this.convertValues(source["registerUntil"], null);
	        this.positions = source["positions"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class FaceResult {
	    passed: boolean;
	    photo: string;
	    photoOk: boolean;
	    problems: face.Problem[];
	    distance: number;
	    threshold: number;
	    match: boolean;
	    failure?: string;
	
	    static createFrom(source: any = {}) {
	        return new FaceResult(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.passed = source["passed"];
	        this.photo = source["photo"];
	        this.photoOk = source["photoOk"];
	        this.problems = this.convertValues(source["problems"], face.Problem);
	        this.distance = source["distance"];
	        this.threshold = source["threshold"];
	        this.match = source["match"];
	        this.failure = source["failure"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class FaceProgress {
	    session: number;
	    phase: string;
	    ok: boolean;
	    problems: face.Problem[];
	    face?: Box;
	    liveness: face.LivenessStatus;
	    result?: FaceResult;
	
	    static createFrom(source: any = {}) {
	        return new FaceProgress(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.session = source["session"];
	        this.phase = source["phase"];
	        this.ok = source["ok"];
	        this.problems = this.convertValues(source["problems"], face.Problem);
	        this.face = this.convertValues(source["face"], Box);
	        this.liveness = this.convertValues(source["liveness"], face.LivenessStatus);
	        this.result = this.convertValues(source["result"], FaceResult);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class FaceSession {
	    id: number;
	    streamUrl: string;
	    eventsUrl: string;
	    challenge: string[];
	    guideBox: Box;
	
	    static createFrom(source: any = {}) {
	        return new FaceSession(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.streamUrl = source["streamUrl"];
	        this.eventsUrl = source["eventsUrl"];
	        this.challenge = source["challenge"];
	        this.guideBox = this.convertValues(source["guideBox"], Box);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class FormOptions {
	    exams: wire.Exam[];
	    education: string[];
	    yearFrom: number;
	    yearTo: number;
	
	    static createFrom(source: any = {}) {
	        return new FormOptions(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.exams = this.convertValues(source["exams"], wire.Exam);
	        this.education = source["education"];
	        this.yearFrom = source["yearFrom"];
	        this.yearTo = source["yearTo"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class LayoutElement {
	    id: string;
	    tag: string;
	    text: string;
	    x: number;
	    y: number;
	    w: number;
	    h: number;
	    data?: {[key: string]: string};
	
	    static createFrom(source: any = {}) {
	        return new LayoutElement(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.tag = source["tag"];
	        this.text = source["text"];
	        this.x = source["x"];
	        this.y = source["y"];
	        this.w = source["w"];
	        this.h = source["h"];
	        this.data = source["data"];
	    }
	}
	export class LayoutProblem {
	    code: string;
	    ids: string[];
	
	    static createFrom(source: any = {}) {
	        return new LayoutProblem(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.ids = source["ids"];
	    }
	}
	export class LayoutReport {
	    screen: string;
	    lang: string;
	    width: number;
	    height: number;
	    elements: LayoutElement[];
	    problems: LayoutProblem[];
	
	    static createFrom(source: any = {}) {
	        return new LayoutReport(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.screen = source["screen"];
	        this.lang = source["lang"];
	        this.width = source["width"];
	        this.height = source["height"];
	        this.elements = this.convertValues(source["elements"], LayoutElement);
	        this.problems = this.convertValues(source["problems"], LayoutProblem);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class PrintState {
	    registrationId: string;
	    state: string;
	    code?: string;
	
	    static createFrom(source: any = {}) {
	        return new PrintState(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.registrationId = source["registrationId"];
	        this.state = source["state"];
	        this.code = source["code"];
	    }
	}
	export class QRLogin {
	    id: string;
	    channel: string;
	    url: string;
	    image: string;
	    state: string;
	    // Go type: time
	    expiresAt: any;
	
	    static createFrom(source: any = {}) {
	        return new QRLogin(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.channel = source["channel"];
	        this.url = source["url"];
	        this.image = source["image"];
	        this.state = source["state"];
	        this.expiresAt = this.convertValues(source["expiresAt"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class StatusItem {
	    key: string;
	    state: string;
	    code: string;
	    detail: string;
	    figures?: string;
	    source?: string;
	
	    static createFrom(source: any = {}) {
	        return new StatusItem(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.state = source["state"];
	        this.code = source["code"];
	        this.detail = source["detail"];
	        this.figures = source["figures"];
	        this.source = source["source"];
	    }
	}
	export class StatusReport {
	    items: StatusItem[];
	    version: string;
	    // Go type: time
	    at: any;
	
	    static createFrom(source: any = {}) {
	        return new StatusReport(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.items = this.convertValues(source["items"], StatusItem);
	        this.version = source["version"];
	        this.at = this.convertValues(source["at"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class StaffOverview {
	    status: StatusReport;
	    sync?: kiosk.State;
	    store: store.Stats;
	    camera: camera.Stats;
	    cameraState: camera.Status;
	    queue: store.QueueEntry[];
	    quarantine: store.QueueEntry[];
	    previewUrl: string;
	
	    static createFrom(source: any = {}) {
	        return new StaffOverview(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.status = this.convertValues(source["status"], StatusReport);
	        this.sync = this.convertValues(source["sync"], kiosk.State);
	        this.store = this.convertValues(source["store"], store.Stats);
	        this.camera = this.convertValues(source["camera"], camera.Stats);
	        this.cameraState = this.convertValues(source["cameraState"], camera.Status);
	        this.queue = this.convertValues(source["queue"], store.QueueEntry);
	        this.quarantine = this.convertValues(source["quarantine"], store.QueueEntry);
	        this.previewUrl = source["previewUrl"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	
	
	export class WelcomeInfo {
	    centreName: string;
	    language: string;
	    demo: boolean;
	    exams: ExamSummary[];
	    version: string;
	
	    static createFrom(source: any = {}) {
	        return new WelcomeInfo(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.centreName = source["centreName"];
	        this.language = source["language"];
	        this.demo = source["demo"];
	        this.exams = this.convertValues(source["exams"], ExamSummary);
	        this.version = source["version"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

export namespace camera {
	
	export class ConsumerStats {
	    name: string;
	    taken: number;
	    skipped: number;
	
	    static createFrom(source: any = {}) {
	        return new ConsumerStats(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.taken = source["taken"];
	        this.skipped = source["skipped"];
	    }
	}
	export class Mode {
	    format: number;
	    width: number;
	    height: number;
	    fps: number;
	
	    static createFrom(source: any = {}) {
	        return new Mode(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.format = source["format"];
	        this.width = source["width"];
	        this.height = source["height"];
	        this.fps = source["fps"];
	    }
	}
	export class Stats {
	    captured: number;
	    bad_frames: number;
	    reconnects: number;
	    fps: number;
	    consumers: ConsumerStats[];
	    state: string;
	
	    static createFrom(source: any = {}) {
	        return new Stats(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.captured = source["captured"];
	        this.bad_frames = source["bad_frames"];
	        this.reconnects = source["reconnects"];
	        this.fps = source["fps"];
	        this.consumers = this.convertValues(source["consumers"], ConsumerStats);
	        this.state = source["state"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Status {
	    state: string;
	    device: string;
	    name?: string;
	    mode: Mode;
	    detail?: string;
	    // Go type: time
	    since: any;
	
	    static createFrom(source: any = {}) {
	        return new Status(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.state = source["state"];
	        this.device = source["device"];
	        this.name = source["name"];
	        this.mode = this.convertValues(source["mode"], Mode);
	        this.detail = source["detail"];
	        this.since = this.convertValues(source["since"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

export namespace face {
	
	export class LivenessStatus {
	    state: string;
	    phase?: string;
	    action?: string;
	    step: number;
	    steps: number;
	    attempt: number;
	    attempts: number;
	    remaining: number;
	    reason?: string;
	
	    static createFrom(source: any = {}) {
	        return new LivenessStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.state = source["state"];
	        this.phase = source["phase"];
	        this.action = source["action"];
	        this.step = source["step"];
	        this.steps = source["steps"];
	        this.attempt = source["attempt"];
	        this.attempts = source["attempts"];
	        this.remaining = source["remaining"];
	        this.reason = source["reason"];
	    }
	}
	export class Problem {
	    code: string;
	    value?: number;
	    limit?: string;
	
	    static createFrom(source: any = {}) {
	        return new Problem(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.value = source["value"];
	        this.limit = source["limit"];
	    }
	}

}

export namespace kiosk {
	
	export class State {
	    online: boolean;
	    syncing: boolean;
	    queued: number;
	    quarantined: number;
	    failures: number;
	    // Go type: time
	    last_success: any;
	    last_error?: string;
	    // Go type: time
	    next_attempt: any;
	    revoked: boolean;
	    clock_offset: number;
	    central: string;
	
	    static createFrom(source: any = {}) {
	        return new State(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.online = source["online"];
	        this.syncing = source["syncing"];
	        this.queued = source["queued"];
	        this.quarantined = source["quarantined"];
	        this.failures = source["failures"];
	        this.last_success = this.convertValues(source["last_success"], null);
	        this.last_error = source["last_error"];
	        this.next_attempt = this.convertValues(source["next_attempt"], null);
	        this.revoked = source["revoked"];
	        this.clock_offset = source["clock_offset"];
	        this.central = source["central"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

export namespace store {
	
	export class QueueEntry {
	    seq: number;
	    id: string;
	    revision: number;
	    candidate_key: string;
	    bytes: number;
	    // Go type: time
	    enqueued_at: any;
	    reason?: string;
	
	    static createFrom(source: any = {}) {
	        return new QueueEntry(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.seq = source["seq"];
	        this.id = source["id"];
	        this.revision = source["revision"];
	        this.candidate_key = source["candidate_key"];
	        this.bytes = source["bytes"];
	        this.enqueued_at = this.convertValues(source["enqueued_at"], null);
	        this.reason = source["reason"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Stats {
	    registrations: number;
	    queued: number;
	    quarantined: number;
	    // Go type: time
	    oldest_queued: any;
	    catalog_version: number;
	    db_bytes: number;
	
	    static createFrom(source: any = {}) {
	        return new Stats(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.registrations = source["registrations"];
	        this.queued = source["queued"];
	        this.quarantined = source["quarantined"];
	        this.oldest_queued = this.convertValues(source["oldest_queued"], null);
	        this.catalog_version = source["catalog_version"];
	        this.db_bytes = source["db_bytes"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class VerifyReport {
	    registrations: number;
	    photos: number;
	    outbox_items: number;
	    audit_entries: number;
	
	    static createFrom(source: any = {}) {
	        return new VerifyReport(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.registrations = source["registrations"];
	        this.photos = source["photos"];
	        this.outbox_items = source["outbox_items"];
	        this.audit_entries = source["audit_entries"];
	    }
	}

}

export namespace ticket {
	
	export class Labels {
	    title: string;
	    number: string;
	    name: string;
	    idNumber: string;
	    exam: string;
	    position: string;
	    site: string;
	    address: string;
	    room: string;
	    seat: string;
	    time: string;
	    verify: string;
	    notes: string;
	
	    static createFrom(source: any = {}) {
	        return new Labels(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.title = source["title"];
	        this.number = source["number"];
	        this.name = source["name"];
	        this.idNumber = source["idNumber"];
	        this.exam = source["exam"];
	        this.position = source["position"];
	        this.site = source["site"];
	        this.address = source["address"];
	        this.room = source["room"];
	        this.seat = source["seat"];
	        this.time = source["time"];
	        this.verify = source["verify"];
	        this.notes = source["notes"];
	    }
	}

}

export namespace wire {
	
	export class Position {
	    id: string;
	    name: string;
	    employer?: string;
	    quota?: number;
	
	    static createFrom(source: any = {}) {
	        return new Position(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.employer = source["employer"];
	        this.quota = source["quota"];
	    }
	}
	export class Exam {
	    id: string;
	    name: string;
	    // Go type: time
	    register_from: any;
	    // Go type: time
	    register_until: any;
	    // Go type: time
	    pay_until: any;
	    fee_cents: number;
	    positions: Position[];
	
	    static createFrom(source: any = {}) {
	        return new Exam(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.name = source["name"];
	        this.register_from = this.convertValues(source["register_from"], null);
	        this.register_until = this.convertValues(source["register_until"], null);
	        this.pay_until = this.convertValues(source["pay_until"], null);
	        this.fee_cents = source["fee_cents"];
	        this.positions = this.convertValues(source["positions"], Position);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

