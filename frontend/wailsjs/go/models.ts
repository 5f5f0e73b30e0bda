export namespace app {
	
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
	export class StatusItem {
	    key: string;
	    state: string;
	    code: string;
	    detail: string;
	
	    static createFrom(source: any = {}) {
	        return new StatusItem(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.key = source["key"];
	        this.state = source["state"];
	        this.code = source["code"];
	        this.detail = source["detail"];
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

