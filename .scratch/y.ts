import { checkYesNo } from '../src/dialogue/slots.js';
for (const t of ['都能提供','能提供','暂时缺少','缺少','同意承诺','不同意','确认提交','修改信息','要','不要','需要','不需要','有','没有','都有','好的']) console.log(t, JSON.stringify(checkYesNo(t)));
